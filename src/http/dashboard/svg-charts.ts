/**
 * The health page's two charts, drawn here as SVG. Every piece of text goes through `esc`, and
 * every number through `num`, so nothing a repository names can become markup. Colours come
 * from classes in dashboard.css (no style attribute: the CSP forbids inline styles).
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
const num = (n: number) => (Number.isFinite(n) ? String(Math.round(n * 10) / 10) : "0");

export interface DurationPoint {
  /** When the build ended (ms since the epoch). */
  at: number;
  ms: number;
  ok: boolean;
  label: string;
}

export interface RepoRate {
  repo: string;
  ok: number;
  total: number;
}

const W = 640;
const H = 200;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

/** Each finished build a dot: when it ended across, how long it ran up; failures marked apart. */
export function durationChart(given: readonly DurationPoint[], title: string): string {
  const points = given.filter((p) => Number.isFinite(p.at) && Number.isFinite(p.ms) && p.ms >= 0);
  const head = `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="dur-t"><title id="dur-t">${esc(title)}</title>`;
  if (points.length === 0) return `${head}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="axis">No finished builds yet</text></svg>`;
  const t0 = Math.min(...points.map((p) => p.at));
  const t1 = Math.max(...points.map((p) => p.at));
  const top = Math.max(...points.map((p) => p.ms), 1000);
  const x = (t: number) => PAD.left + (t1 === t0 ? (W - PAD.left - PAD.right) / 2 : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (ms: number) => H - PAD.bottom - (ms / top) * (H - PAD.top - PAD.bottom);
  const axes = [
    `<line class="grid" x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}"/>`,
    `<line class="grid" x1="${PAD.left}" y1="${PAD.top}" x2="${W - PAD.right}" y2="${PAD.top}"/>`,
    `<text class="axis" x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${esc(seconds(top))}</text>`,
    `<text class="axis" x="${PAD.left - 6}" y="${H - PAD.bottom + 4}" text-anchor="end">0</text>`,
    `<text class="axis" x="${PAD.left}" y="${H - 8}">${esc(new Date(t0).toISOString().slice(0, 16).replace("T", " "))}</text>`,
    `<text class="axis" x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${esc(new Date(t1).toISOString().slice(0, 16).replace("T", " "))}</text>`,
  ];
  const dots = points.map((p) => `<circle class="${p.ok ? "ok" : "bad"}" cx="${num(x(p.at))}" cy="${num(y(p.ms))}" r="4"><title>${esc(`${p.label}: ${seconds(p.ms)}${p.ok ? "" : ", failed"}`)}</title></circle>`);
  return `${head}${axes.join("")}${dots.join("")}</svg>`;
}

const BAR_H = 22;
const LABEL_W = 220;

/** A bar per repository: the share of its finished builds that succeeded. */
export function successChart(rates: readonly RepoRate[], title: string): string {
  const height = Math.max(1, rates.length) * BAR_H + 8;
  const head = `<svg class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-labelledby="rate-t"><title id="rate-t">${esc(title)}</title>`;
  if (rates.length === 0) return `${head}<text x="${W / 2}" y="16" text-anchor="middle" class="axis">No finished builds yet</text></svg>`;
  const span = W - LABEL_W - 60;
  const bars = rates.map((r, i) => {
    const share = r.total > 0 ? r.ok / r.total : 0;
    const y = 4 + i * BAR_H;
    const name = r.repo.length > 32 ? `${r.repo.slice(0, 31)}…` : r.repo;
    return [
      `<text class="label" x="${LABEL_W - 8}" y="${y + 15}" text-anchor="end">${esc(name)}</text>`,
      `<rect class="track" x="${LABEL_W}" y="${y + 3}" width="${span}" height="${BAR_H - 8}"/>`,
      `<rect class="${share >= 0.8 ? "ok" : share >= 0.5 ? "warn" : "bad"}" x="${LABEL_W}" y="${y + 3}" width="${num(span * share)}" height="${BAR_H - 8}"><title>${esc(`${r.repo}: ${r.ok} of ${r.total}`)}</title></rect>`,
      `<text class="label" x="${LABEL_W + span + 6}" y="${y + 15}">${esc(`${Math.round(share * 100)}%`)}</text>`,
    ].join("");
  });
  return `${head}${bars.join("")}</svg>`;
}
