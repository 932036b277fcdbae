import { cpus, totalmem } from "node:os";

/** Latency percentile (nearest rank) of a sample in milliseconds. */
export function percentile(sample: number[], p: number): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** p50/p99 of a sample, rounded to 0.1 ms. */
export function latency(sample: number[]): { p50: number; p99: number; n: number } {
  const round = (x: number) => Math.round(x * 10) / 10;
  return { p50: round(percentile(sample, 50)), p99: round(percentile(sample, 99)), n: sample.length };
}

/** The machine, as the README table states it. */
export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export interface Row {
  measure: string;
  result: string;
  baseline: string;
  ratio: string;
}

/** A Markdown table (also readable on a terminal). */
export function table(rows: Row[]): string {
  const head: Row = { measure: "Measure", result: "Result", baseline: "Baseline (same run)", ratio: "Ratio" };
  const all = [head, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const line = (r: Row) =>
    `| ${(["measure", "result", "baseline", "ratio"] as const).map((k) => r[k].padEnd(width(k))).join(" | ")} |`;
  const rule = `|${(["measure", "result", "baseline", "ratio"] as const).map((k) => "-".repeat(width(k) + 2)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

/** "12.3×" (how many times better the measured figure is than the baseline). */
export function times(x: number): string {
  return `${x >= 10 ? Math.round(x) : Math.round(x * 10) / 10}×`;
}

/** A Markdown table with any columns (the first is the measure). */
export function grid(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const width = (i: number) => Math.max(...all.map((r) => (r[i] ?? "").length));
  const line = (r: string[]) => `| ${head.map((_, i) => (r[i] ?? "").padEnd(width(i))).join(" | ")} |`;
  const rule = `|${head.map((_, i) => "-".repeat(width(i) + 2)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}
