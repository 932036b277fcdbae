/** Turns the history routes' answers into chart points, tolerant of the exact field names. */
import type { Point } from "./chart.ts";
import { usdtNumber } from "./format.ts";

type Row = Record<string, unknown>;

const ARRAY_KEYS = ["points", "buckets", "snapshots", "history", "series", "items"];
const TIME_KEYS = ["t", "time", "timestamp", "takenAt", "bucketStart", "bucket", "at", "start", "recordedAt"];

/** The list of rows inside an API answer (the answer itself, or its first array-valued known field). */
function rowsOf(data: unknown): Row[] {
  if (Array.isArray(data)) return data as Row[];
  if (data && typeof data === "object") {
    for (const key of ARRAY_KEYS) {
      const value = (data as Row)[key];
      if (Array.isArray(value)) return value as Row[];
    }
  }
  return [];
}

function timeOf(row: Row): number | null {
  for (const key of TIME_KEYS) {
    const value = row[key];
    if (typeof value === "string" || typeof value === "number") {
      const t = new Date(value).getTime();
      if (!Number.isNaN(t)) return t;
    }
  }
  return null;
}

/** Points (USDT, sorted by time) from rows carrying one of `valueKeys` as base units. */
export function seriesFrom(data: unknown, valueKeys: string[]): Point[] {
  const out: Point[] = [];
  for (const row of rowsOf(data)) {
    const t = timeOf(row);
    const key = valueKeys.find((k) => row[k] !== undefined && row[k] !== null);
    if (t === null || key === undefined) continue;
    out.push({ t, v: usdtNumber(row[key]) });
  }
  return out.sort((a, b) => a.t - b.t);
}

/** Adds the current value at `now` so the line always reaches the present. */
export function withCurrent(points: Point[], current: number | null, now = Date.now()): Point[] {
  if (current === null) return points;
  const last = points.at(-1);
  if (last && last.t >= now) return points;
  return [...points, { t: now, v: current }];
}
