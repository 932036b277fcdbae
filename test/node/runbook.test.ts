import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const runbook = readFileSync(join(ROOT, "docs/RUNBOOK.md"), "utf8");

/** Every alert kind the code can raise: `kind: "…"` literals (and `…_KIND = "…"` constants) in files that raise alerts (raiseAlert or raiseAggregated). */
function raisedKinds(): string[] {
  const kinds = new Set<string>();
  const files = readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  for (const file of files) {
    const text = readFileSync(join(ROOT, "src", file), "utf8");
    if (!text.includes("raiseAlert(") && !text.includes("raiseAggregated(")) continue;
    for (const line of text.split("\n")) {
      const literals = /\bkind:\s*(.*)$/.exec(line)?.[1] ?? /_KIND\s*=\s*(.*)$/.exec(line)?.[1];
      for (const m of literals?.matchAll(/"([a-z][a-z_]+)"/g) ?? []) kinds.add(m[1]!);
    }
  }
  return [...kinds].sort();
}

describe("the runbook", () => {
  it("says what each alert kind the code raises means and what to do", () => {
    const kinds = raisedKinds();
    expect(kinds).toEqual(
      expect.arrayContaining(["unauthorized_caller", "low_balance", "program_paused", "ingest_gap"]),
    );
    for (const kind of kinds) expect(runbook, kind).toMatch(new RegExp(`^### .*\`${kind}\``, "m"));
  });

  it("says how to rebuild the cache from the chain after losing the database", () => {
    expect(runbook).toMatch(/^## Rebuild the cache from the chain/m);
  });
});
