/**
 * Folders import downward only. Each top-level folder of src/ (and each file at its root) has a rank; a module may
 * import its own folder or any folder ranked below it, never one above. Type-only imports count too: a type names
 * what a module depends on as much as a value does. The order, top to bottom:
 *
 * - index.ts: the Worker's entry (handlers and the Durable Object classes wrangler binds).
 * - dashboard, client: the browser page and the generated API client.
 * - api: the HTTP operations (one module each) and their middleware.
 * - monitor: what reads the whole system (status, alert lists, audit, history, the metrics report).
 * - jobs: cron and Scheduler jobs.
 * - ingest: the ingestion pipeline, its watchdog and the Ingestor.
 * - realtime: the owner hubs, publishing, the relay tracker.
 * - vault: requests, builds, the relay policy, balances.
 * - platform: what every feature shares at run time (services, alerts, alert delivery, metrics collection, job runs,
 *   singletons, the rate limiter, stubs of the objects).
 * - chain, db: the Solana RPC and program codec; the database (schema, the request state machine, leases).
 * - config.ts, env.ts: configuration and bindings.
 * - lib: pure helpers (errors, amounts, JSON, logging, keys).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const LAYERS = [
  "index.ts",
  "dashboard",
  "client",
  "api",
  "monitor",
  "jobs",
  "ingest",
  "realtime",
  "vault",
  "platform",
  "chain",
  "db",
  "config.ts",
  "env.ts",
  "lib",
];

const SRC = join(import.meta.dirname, "../../src");

/** The rank unit of a path under src/: its top-level folder, or the file itself at the root. */
const unitOf = (path: string) => relative(SRC, path).split(/[\\/]/)[0]!;

interface Edge {
  from: string;
  to: string;
}

/** Relative imports (static, re-exports, dynamic, type-only) of one module, resolved to paths. */
function importsOf(file: string, text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => normalize(join(dirname(file), name)));
}

/** Imports that go up (or to a unit without a rank). */
function upwardImports(edges: Edge[], layers: string[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = unitOf(from);
    const b = unitOf(to);
    if (a === b || !to.startsWith(SRC)) continue;
    const ra = layers.indexOf(a);
    const rb = layers.indexOf(b);
    if (ra < 0 || rb < 0 || rb < ra) out.push(`${relative(SRC, from)} → ${relative(SRC, to)}`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

describe("import direction", () => {
  it("finds an upward import, a sideways one into an unranked folder, and accepts downward ones", () => {
    const at = (p: string) => join(SRC, p);
    const edges = [
      { from: at("vault/a.ts"), to: at("api/errors.ts") },
      { from: at("api/x.ts"), to: at("vault/a.ts") },
      { from: at("lib/y.ts"), to: at("lib/z.ts") },
      { from: at("newfolder/q.ts"), to: at("lib/z.ts") },
    ];
    expect(upwardImports(edges, LAYERS)).toEqual(["vault/a.ts → api/errors.ts", "newfolder/q.ts → lib/z.ts"]);
  });

  it("every folder of src/ has a rank and imports only its own or lower ones", () => {
    const units = new Set(readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory() || n.endsWith(".ts")));
    expect([...units].filter((u) => !LAYERS.includes(u))).toEqual([]);
    const edges = sourceFiles(SRC).flatMap((from) =>
      importsOf(from, readFileSync(from, "utf8")).map((to) => ({ from, to })),
    );
    expect(edges.length).toBeGreaterThan(500);
    expect(upwardImports(edges, LAYERS)).toEqual([]);
  });
});
