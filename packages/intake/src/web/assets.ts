import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * The local page's files, all served by kennel itself (nothing comes from a CDN):
 *
 * - `/` → `web/static/index.html`, `/assets/style.css` → `web/static/style.css`;
 * - `/assets/<name>.js` → the page's ES modules, compiled by `tsc -b` from `web/src/` into
 *   `dist/web/`;
 * - `/assets/vendor/uplot.js` → uPlot's minified build from its npm package, as an ES module,
 *   and `/assets/uplot.css` its style sheet.
 *
 * Files are read once, on first use, and kept with their gzip form and an ETag.
 */

export interface Asset {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly type: string;
  readonly etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function asset(body: Buffer, type: string): Asset {
  return { body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"` };
}

function typeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return TYPES[name.slice(dot)] ?? 'application/octet-stream';
}

export interface WebAssetsOptions {
  /** Where the compiled page modules are. @defaultValue this package's `dist/web/` */
  readonly clientDir?: string;
  /** Where `index.html` and `style.css` are. @defaultValue this package's `web/static/` */
  readonly staticDir?: string;
}

export class WebAssets {
  readonly clientDir: string;
  readonly staticDir: string;
  private cache: Map<string, Asset> | null = null;

  constructor(options: WebAssetsOptions = {}) {
    this.clientDir = options.clientDir ?? fileURLToPath(new URL('../../web/', import.meta.url));
    this.staticDir = options.staticDir ?? fileURLToPath(new URL('../../../web/static/', import.meta.url));
  }

  /** Whether the page's modules were built (`dist/web/app.js`). */
  get built(): boolean {
    return existsSync(join(this.clientDir, 'app.js'));
  }

  private load(): Map<string, Asset> {
    if (this.cache !== null) return this.cache;
    const m = new Map<string, Asset>();
    for (const [route, file] of [
      ['/', 'index.html'],
      ['/assets/style.css', 'style.css'],
    ] as const) {
      const p = join(this.staticDir, file);
      if (existsSync(p)) m.set(route, asset(readFileSync(p), typeOf(file)));
    }
    if (existsSync(this.clientDir)) {
      for (const name of readdirSync(this.clientDir)) {
        if (/^[a-z0-9-]+\.js$/.test(name)) m.set(`/assets/${name}`, asset(readFileSync(join(this.clientDir, name)), typeOf(name)));
      }
    }
    try {
      const require = createRequire(import.meta.url);
      const dir = join(dirname(require.resolve('uplot/package.json')), 'dist');
      // The IIFE build declares `var uPlot = ...`; as a module, that binding is what it exports.
      const js = readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8');
      m.set('/assets/vendor/uplot.js', asset(Buffer.from(`${js}\nexport default uPlot;\n`), TYPES['.js']!));
      m.set('/assets/uplot.css', asset(readFileSync(join(dir, 'uPlot.min.css')), TYPES['.css']!));
    } catch {
      // uPlot not installed: the page says so when its import fails.
    }
    this.cache = m;
    return m;
  }

  /** The asset served at `path`, if any. */
  get(path: string): Asset | undefined {
    return this.load().get(path === '/index.html' ? '/' : path);
  }

  /** What the page costs: every file with its size and gzip size, and the totals. */
  sizes(): { files: { path: string; bytes: number; gzipBytes: number }[]; bytes: number; gzipBytes: number } {
    const files = [...this.load()].map(([path, a]) => ({ path, bytes: a.body.length, gzipBytes: a.gzip.length }));
    return { files, bytes: files.reduce((n, f) => n + f.bytes, 0), gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0) };
  }
}
