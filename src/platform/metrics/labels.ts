/** Prometheus label sets, kept as one canonical string per set (sorted names, escaped values) wherever stored. */
export type Labels = Record<string, string>;

/** `a="1",b="x\"y"`: sorted by name, values escaped as the text format requires. */
export function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}="${escapeLabel(labels[name]!)}"`)
    .join(",");
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
