import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { Decompress } from 'fzstd';
import { decodeError, decoded, DecodeErrorReason, type DecodeResult } from './result.js';

/** The default cap on a decompressed body: 64 MiB, above every intake limit the agent honours. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface DecompressOptions {
  /** The most bytes a body may decompress to. @defaultValue {@link DEFAULT_MAX_DECOMPRESSED_BYTES} */
  readonly maxDecompressedBytes?: number;
}

const TOO_LARGE = Symbol('too large');

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function zstd(body: Uint8Array, max: number): DecodeResult<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  // fzstd reads one frame after another, so a body of many frames (as kennel writes) decodes
  // whole. The streaming form lets us stop at the cap instead of trusting frame headers.
  const d = new Decompress((chunk) => {
    total += chunk.length;
    if (total > max) throw TOO_LARGE;
    chunks.push(chunk.slice());
  });
  try {
    d.push(body, true);
  } catch (e) {
    if (e === TOO_LARGE) return decodeError(DecodeErrorReason.TOO_LARGE, `zstd body decompresses to more than ${max} bytes`);
    return decodeError(DecodeErrorReason.DECOMPRESS_FAILED, `zstd: ${message(e)}`);
  }
  if (body.length === 0) return decodeError(DecodeErrorReason.DECOMPRESS_FAILED, 'zstd: empty body');
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return decoded(out);
}

function zlibLike(body: Uint8Array, max: number, encoding: string): DecodeResult<Uint8Array> {
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return decoded(gunzipSync(body, { maxOutputLength: max }));
    try {
      return decoded(inflateSync(body, { maxOutputLength: max }));
    } catch (e) {
      // Some clients send raw deflate for `deflate`; the agent sends zlib (RFC 1950).
      if ((e as { code?: string }).code === 'Z_DATA_ERROR') return decoded(inflateRawSync(body, { maxOutputLength: max }));
      throw e;
    }
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      return decodeError(DecodeErrorReason.TOO_LARGE, `${encoding} body decompresses to more than ${max} bytes`);
    }
    return decodeError(DecodeErrorReason.DECOMPRESS_FAILED, `${encoding}: ${message(e)}`);
  }
}

/**
 * Undoes a `Content-Encoding`: `zstd`, `deflate` (zlib, or raw deflate), `gzip`, or none
 * (`identity`, empty or absent). Never throws.
 */
export function decompressBody(
  body: Uint8Array,
  contentEncoding: string | undefined,
  options: DecompressOptions = {},
): DecodeResult<Uint8Array> {
  const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  switch (encoding) {
    case '':
    case 'identity':
      if (body.length > max) return decodeError(DecodeErrorReason.TOO_LARGE, `body is more than ${max} bytes`);
      return decoded(body);
    case 'zstd':
      return zstd(body, max);
    case 'deflate':
    case 'gzip':
    case 'x-gzip':
      return zlibLike(body, max, encoding);
    default:
      return decodeError(DecodeErrorReason.UNSUPPORTED_ENCODING, `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported`);
  }
}
