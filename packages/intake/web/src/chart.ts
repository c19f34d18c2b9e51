import uPlot from './vendor/uplot.js';
import { clock, short } from './fmt.js';

/**
 * A time-series chart (uPlot): one line per context, x in Unix seconds. Drag across it to zoom,
 * double-click to zoom out; new data keeps the zoom the user chose.
 */

export interface Line {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

export class TimeChart {
  private plot: uPlot | null = null;
  private readonly el: HTMLElement;
  private zoom: { min: number; max: number } | null = null;
  private extent: { min: number; max: number } | null = null;
  private seriesCount = -1;
  private legend = false;
  private readonly resize: ResizeObserver;

  constructor(el: HTMLElement) {
    this.el = el;
    el.classList.add('chart');
    this.resize = new ResizeObserver(() => {
      if (this.plot !== null) this.plot.setSize({ width: this.width(), height: this.height() });
    });
    this.resize.observe(el);
  }

  private width(): number {
    return Math.max(200, this.el.clientWidth || 600);
  }

  private height(): number {
    return 280;
  }

  /** Shows `lines`; keeps the user's zoom when there is one. */
  set(lines: readonly Line[]): void {
    const xs = new Set<number>();
    for (const l of lines) for (const p of l.points) xs.add(p[0]);
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map<number, number>();
    x.forEach((t, i) => index.set(t, i));
    const ys = lines.map((l) => {
      const y: (number | null)[] = new Array<number | null>(x.length).fill(null);
      for (const p of l.points) y[index.get(p[0])!] = Number.isFinite(p[1]) ? p[1] : null;
      return y;
    });
    const data = [x, ...ys] as uPlot.AlignedData;
    this.extent = x.length > 0 ? { min: x[0]!, max: x[x.length - 1]! } : null;
    let total = 0;
    for (const l of lines) total += l.points.length;
    this.el.dataset.series = String(lines.length);
    this.el.dataset.points = String(total);
    const legend = lines.length <= 8;
    if (this.plot === null || this.seriesCount !== lines.length || legend !== this.legend || !this.sameLabels(lines)) {
      this.plot?.destroy();
      this.plot = new uPlot(this.options(lines, legend), data, this.el);
      this.seriesCount = lines.length;
      this.legend = legend;
      if (this.zoom !== null) this.plot.setScale('x', this.zoom);
      return;
    }
    if (this.zoom !== null) {
      this.plot.setData(data, false);
      this.plot.setScale('x', this.zoom);
    } else this.plot.setData(data);
  }

  private sameLabels(lines: readonly Line[]): boolean {
    const s = this.plot!.series;
    for (let i = 0; i < lines.length; i++) if (s[i + 1]?.label !== lines[i]!.label) return false;
    return true;
  }

  private options(lines: readonly Line[], legend: boolean): uPlot.Options {
    return {
      width: this.width(),
      height: this.height(),
      legend: { show: legend, live: true },
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
      scales: {
        x: {
          time: true,
          // A few points only: show the last five minutes around them, not years of axis.
          range: (_u, min, max) => (max - min < 240 ? [Math.min(min, max - 300), max + 30] : [min, max]),
        },
      },
      axes: [
        { stroke: '#667', grid: { stroke: '#e6e8ee', width: 1 }, ticks: { stroke: '#d0d4dc', width: 1 } },
        { stroke: '#667', size: 64, grid: { stroke: '#e6e8ee', width: 1 }, ticks: { stroke: '#d0d4dc', width: 1 }, values: (_u, vals) => vals.map((v) => short(v)) },
      ],
      series: [
        { label: 'time', value: (_u, v) => (v === null ? '–' : clock(v * 1000)) },
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.colour,
          width: 1.5,
          points: { show: true, size: 4, fill: l.colour },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : short(v)),
        })),
      ],
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            const min = u.scales.x!.min;
            const max = u.scales.x!.max;
            const e = this.extent;
            if (min === undefined || max === undefined || e === null) return;
            // Zoomed in when the scale is inside the data (uPlot pads nothing on a time axis).
            this.zoom = min > e.min + 1e-6 || max < e.max - 1e-6 ? { min, max } : null;
            this.el.dataset.zoomed = String(this.zoom !== null);
          },
        ],
      },
    };
  }

  /** Back to the whole window. */
  resetZoom(): void {
    this.zoom = null;
    if (this.plot !== null && this.extent !== null) this.plot.setScale('x', this.extent);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
