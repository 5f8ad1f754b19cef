// Line charts for the benchmark report, written as SVG text and rasterised to PNG by Debian's Chromium.
// SVG first: the charts must exist without a browser (the Markdown report links them and any viewer shows
// them), and chart libraries need a DOM to draw at all; Chromium is only the rasteriser.

import { readFileSync, writeFileSync } from 'node:fs';

export interface Series {
  name: string;
  points: [number, number][];
  /** Index into the palette (defaults to the series' position), so related series can share a colour. */
  color?: number;
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
}

const W = 840;
const H = 440;
const M = { left: 70, right: 230, top: 40, bottom: 55 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Ticks at 1-2-5 steps (linear) or powers of ten with 2 and 5 (log). */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
      }
    return out;
  }
  const raw = (hi - lo) / 6;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

export function svgLineChart(c: LineChart): string {
  const all = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const pos = (v: number, log?: boolean) => !log || v > 0;
  const xs = all.map((p) => p[0]).filter((v) => pos(v, c.logX));
  const ys = all.map((p) => p[1]).filter((v) => pos(v, c.logY));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!c.logY) y0 = Math.min(0, y0);
  if (x0 === x1) [x0, x1] = c.logX ? [x0 / 2, x1 * 2] : [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = c.logY ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];
  if (c.logX) [x0, x1] = [10 ** Math.floor(Math.log10(x0)), 10 ** Math.ceil(Math.log10(x1))];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (v: number) =>
    M.left +
    (c.logX ? (Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (v - x0) / (x1 - x0)) *
      pw;
  const sy = (v: number) =>
    M.top +
    ph -
    (c.logY ? (Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (v - y0) / (y1 - y0)) *
      ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(c.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="24" font-size="15" font-weight="bold">${esc(c.title)}</text>`,
  ];
  for (const t of ticks(x0, x1, c.logX ?? false)) {
    const x = sx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle" fill="#444">${fmt(t)}</text>`,
    );
  }
  for (const t of ticks(y0, y1, c.logY ?? false)) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${y}" dy="4" text-anchor="end" fill="#444">${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  c.series.forEach((s, i) => {
    const color = COLORS[(s.color ?? i) % COLORS.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = s.points
      .filter(([x, y]) => pos(x, c.logX) && pos(y, c.logY))
      .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`,
      ...(pts.length <= 12
        ? pts.map((p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${color}"/>`)
        : []),
      `<line x1="${M.left + pw + 12}" x2="${M.left + pw + 32}" y1="${M.top + 12 + i * 20}" y2="${M.top + 12 + i * 20}" stroke="${color}" stroke-width="3"${dash}/>`,
      `<text x="${M.left + pw + 38}" y="${M.top + 16 + i * 20}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * Rasterises SVG files to PNG next to them with Chromium through playwright-core; returns why it could not
 * (no playwright-core or no browser), or undefined when every PNG was written.
 */
export async function svgToPng(
  files: { svg: string; png: string }[],
  executablePath: string,
): Promise<string | undefined> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return 'playwright-core is not installed';
  }
  let browser: Awaited<ReturnType<typeof chromium.launch>>;
  try {
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  } catch (e) {
    return `Chromium did not start (${executablePath}): ${(e as Error).message.split('\n')[0]}`;
  }
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H }, deviceScaleFactor: 2 });
    for (const f of files) {
      await page.setContent(`<html><body style="margin:0">${readFileSync(f.svg, 'utf8')}</body></html>`);
      writeFileSync(f.png, await page.locator('svg').screenshot());
    }
  } finally {
    await browser.close();
  }
  return undefined;
}
