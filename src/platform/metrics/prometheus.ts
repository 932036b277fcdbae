/** The Prometheus text exposition format (version 0.0.4): families with HELP and TYPE, then their samples. */
import { type Labels, labelKey } from "./labels.ts";

export interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  /** [canonical label key, value] */
  samples: Array<[string, number]>;
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A family from labelled values. */
export function family(name: string, type: Family["type"], help: string, samples: Array<[Labels, number]>): Family {
  return { name, type, help, samples: samples.map(([labels, value]) => [labelKey(labels), value]) };
}

/** Renders the families, skipping empty ones. */
export function render(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const [labels, value] of f.samples)
      lines.push(`${f.name}${labels ? `{${labels}}` : ""} ${formatValue(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, "");
}
