/** Line charts drawn as SVG (no chart library): time on x, one value on y, labelled for screen readers. */

export interface Point {
  t: number;
  v: number;
}

const NS = "http://www.w3.org/2000/svg";
const W = 640;
const H = 220;
const PAD = { left: 64, right: 16, top: 12, bottom: 28 };

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Round-ish tick values between min and max. */
function ticks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step / 1e6; v += step) out.push(v);
  return out;
}

function compact(v: number): string {
  return new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 }).format(v);
}

/**
 * Draws `points` (sorted by time) into a new SVG. A single point is drawn as a flat line so it is still visible;
 * `step` draws a staircase (balances change at instants, not gradually).
 */
export function lineChart(points: Point[], opts: { label: string; unit: string; step?: boolean }): SVGSVGElement {
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart" });
  const title = svg("title", {});
  const last = points.at(-1);
  title.textContent = last
    ? `${opts.label}: ${points.length} points, latest ${compact(last.v)} ${opts.unit} at ${new Date(last.t).toLocaleString()}`
    : `${opts.label}: no data`;
  root.appendChild(title);
  root.setAttribute("aria-label", title.textContent);
  if (points.length === 0) return root;
  const first = points[0]!;
  const tMin = first.t;
  const tMax = Math.max(last!.t, tMin + 1);
  const values = points.map((p) => p.v);
  let vMin = Math.min(0, ...values);
  let vMax = Math.max(...values);
  if (vMax === vMin) vMax = vMin + 1;
  const yTicks = ticks(vMin, vMax, 4);
  vMin = Math.min(vMin, yTicks[0] ?? vMin);
  vMax = Math.max(vMax, yTicks.at(-1) ?? vMax);
  const x = (t: number) => PAD.left + ((t - tMin) / (tMax - tMin)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - ((v - vMin) / (vMax - vMin)) * (H - PAD.top - PAD.bottom);

  for (const v of yTicks) {
    root.appendChild(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid" }));
    const label = svg("text", { x: PAD.left - 8, y: y(v) + 4, "text-anchor": "end", class: "axis" });
    label.textContent = compact(v);
    root.appendChild(label);
  }
  for (const [t, anchor] of [
    [tMin, "start"],
    [tMax, "end"],
  ] as const) {
    const label = svg("text", { x: x(t), y: H - 8, "text-anchor": anchor, class: "axis" });
    label.textContent = new Date(t).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
    root.appendChild(label);
  }

  const drawn = points.length === 1 ? [first, { t: tMax, v: first.v }] : points;
  let d = `M${x(drawn[0]!.t)},${y(drawn[0]!.v)}`;
  for (let i = 1; i < drawn.length; i++) {
    const p = drawn[i]!;
    d += opts.step ? `H${x(p.t)}V${y(p.v)}` : `L${x(p.t)},${y(p.v)}`;
  }
  const baseline = y(Math.max(vMin, 0));
  root.appendChild(svg("path", { d: `${d}V${baseline}H${x(drawn[0]!.t)}Z`, class: "area" }));
  root.appendChild(svg("path", { d, class: "line" }));
  root.appendChild(svg("circle", { cx: x(last!.t), cy: y(last!.v), r: 4, class: "dot" }));
  return root;
}
