/**
 * `npm run bench`: starts its own stack (embedded PostgreSQL, the Neon WebSocket proxy, the localnet behind an
 * RPC-counting proxy, `wrangler dev`), loads 10,000 vaults and a 10,000-transaction backlog, and measures each
 * figure side by side with its baseline in the same run. Prints a Markdown table and writes bench-results/.
 */
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { type StackParts, stackVars, startStack } from "../local-stack.ts";
import { describeProfile, profileFromEnv, workerVarsFor } from "../localnet/profile.ts";
import { freePort } from "../ports.ts";
import { DEV_DIR, ROOT, testDatabase } from "../stack.ts";
import { startWranglerDev } from "../wrangler.ts";
import { type LoadedChain, loadChain } from "./chain-load.ts";
import { type Bench, benchBuild, benchFanout, benchIngest, benchPushFanout, benchRoundTrips } from "./measures.ts";
import { benchProviders, type Column, providerRows } from "./provider.ts";
import { benchReads } from "./reads.ts";
import { type RpcCounter, startRpcCounter } from "./rpc-counter.ts";
import { benchReconcile, benchScale, benchScaleProvider } from "./scale.ts";
import { grid, machine, table } from "./stats.ts";

const VAULTS = Number(process.env.BENCH_VAULTS ?? 10_000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 10_000);
/** Vaults created by transactions; the rest are written as account fixtures (dev/bench/chain-load.ts says why). */
const TX_VAULTS = Number(process.env.BENCH_TX_VAULTS ?? 20_000);
/** Transactions the provider comparison ingests (the newest of the backlog), under each profile. */
const PROVIDER_BACKLOG = Number(process.env.BENCH_PROVIDER_BACKLOG ?? 5_000);
/** The provider column's profile: `provider` (40 ± 10 ms, 50 requests/s counting items…), LOCALNET_* knobs apply. */
const PROVIDER = profileFromEnv({ ...process.env, LOCALNET_PROFILE: "provider" });
const FUNDED = 100;
/**
 * `BENCH_ONLY=reads,build` runs only those sections (ingest, provider, reconcile, reads, build, trips, push, fanout,
 * scale); the default is all but `scale` (run it with `BENCH_ONLY=ingest,scale BENCH_VAULTS=100000`).
 */
const SECTIONS = ["ingest", "provider", "reconcile", "reads", "build", "trips", "push", "fanout", "scale"] as const;
const DEFAULT_SECTIONS = SECTIONS.filter((s) => s !== "scale");
const ONLY = new Set((process.env.BENCH_ONLY ?? DEFAULT_SECTIONS.join(",")).split(",").map((s) => s.trim()));
const runs = (section: (typeof SECTIONS)[number]) => ONLY.has(section);
const WEBHOOK_SECRET = "bench-webhook-secret-0123456789";

const stops: Array<() => Promise<void>> = [];
const step = (what: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${what}`);
/** Durable Object state on tmpfs when there is one (see the README's Benchmarks section). */
const stateRoot = existsSync("/dev/shm") ? "/dev/shm" : DEV_DIR;

/** The bench Worker's variables, reading the chain through `rpcUrl`. */
function benchVars(parts: StackParts, rpcUrl: string): Record<string, string> {
  return {
    ...stackVars(parts),
    // The Worker's RPC goes through a counter, so each figure can say how many requests it took.
    SOLANA_RPC_URL: rpcUrl,
    API_KEYS: "bench:service:bench-service-key-0123456789abcdef",
    HELIUS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    BENCH_ROUTES: "true",
    RATE_LIMIT_IP_PER_MINUTE: "0",
    RATE_LIMIT_OWNER_PER_MINUTE: "0",
    RATE_LIMIT_GLOBAL_BUILDS_PER_MINUTE: "0",
    WS_MAX_ANONYMOUS_PER_CLIENT: "0",
    WS_MAX_ANONYMOUS_PER_OWNER: "0",
    LOG_LEVEL: "error",
    // Reads are served from the cache the ingestion and reconciliation keep fresh.
    BALANCE_CHECK_INTERVAL: "3600",
    RECONCILIATION_MAX_BATCHES: "500",
    INGEST_INTERVAL_MS: "250",
  };
}

/** wrangler dev's lines worth showing: workerd's tail-session notices are noise, not the Worker's errors. */
function workerOutput(line: string): void {
  if (/error/i.test(line) && !line.includes("trace-stream")) console.error(`  wrangler: ${line}`);
}

async function main() {
  const started = Date.now();
  const host = machine();
  const loadAtStart = loadavg()[0]!;
  step(`machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, node ${host.node}, load ${loadAtStart}`);
  let counter: RpcCounter | null = null;
  let loaded: LoadedChain | null = null;
  const stack = await startStack({
    database: testDatabase,
    localnet: { port: 0, slotMs: 100, finalityDepth: 4, quiet: true },
    beforeWorker: async ({ localnet }) => {
      counter = await startRpcCounter(localnet!.rpcUrl);
      stops.push(counter.close);
      step(
        `loading ${VAULTS} vaults (${Math.min(VAULTS, TX_VAULTS)} by transaction) and a backlog of ${BACKLOG} program transactions into the localnet`,
      );
      loaded = await loadChain(localnet!, { vaults: VAULTS, funded: FUNDED, backlog: BACKLOG, txVaults: TX_VAULTS });
      step(`loaded: ${loaded.programTransactions} program transactions`);
    },
    worker: {
      port: await freePort(),
      // The Durable Objects' local SQLite files go on tmpfs when there is one: locally every hub write is otherwise
      // an fsync on a disk other work shares, which dominated ingestion (10,000 new owner hubs).
      stateDir: join(stateRoot, `bench-${process.pid}`),
      vars: (parts) => benchVars(parts, counter!.url),
      onOutput: workerOutput,
    },
    register: (stop) => stops.push(stop),
  });
  const { worker, database, localnet, proxy } = stack;
  step(`worker at ${worker.url}`);

  const bench: Bench = {
    worker: worker.url,
    databaseUrl: database.url,
    localnet: localnet!,
    counter: counter!,
    loaded: loaded!,
    webhookSecret: WEBHOOK_SECRET,
    log: step,
  };
  const none = { rows: [] };
  const ingest = runs("ingest") ? await benchIngest(bench) : none;
  const provider = runs("provider") ? await providerSection(bench, stack, worker.url) : null;
  // Reads are served from the vault cache, which a reconciliation fills when ingestion did not run.
  const reconcile = runs("reconcile") || (runs("reads") && !runs("ingest")) ? await benchReconcile(bench) : none;
  const reads = runs("reads") ? await benchReads(bench, { neonProxy: proxy.address }) : none;
  const build = runs("build") ? await benchBuild(bench) : none;
  const trips = runs("trips") ? await benchRoundTrips(bench) : none;
  const push = runs("push") ? await benchPushFanout(bench) : none;
  const fanout = runs("fanout") ? await benchFanout(bench) : none;
  const scale = runs("scale") ? await benchScale(bench) : none;
  const scaleProvider =
    runs("scale") && process.env.BENCH_SCALE_PROVIDER === "1" ? await scaleOnProvider(bench, stack) : none;

  const rows = [
    ...ingest.rows,
    ...(runs("reconcile") ? reconcile.rows : []),
    ...reads.rows,
    ...build.rows,
    ...trips.rows,
    ...push.rows,
    ...fanout.rows,
    ...scale.rows,
    ...scaleProvider.rows,
  ];
  const date = new Date().toISOString();
  const load = `1-min load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`;
  const header = `Measured ${date.slice(0, 10)} on ${host.cpu} (${host.cores} cores, ${host.memoryGiB} GiB), Node ${host.node}, ${host.platform}; local stack (wrangler dev + embedded PostgreSQL + localnet); ${load}; total ${Math.round((Date.now() - started) / 1000)} s.`;
  const providerTable = provider
    ? `\n${grid(["Measure", ...provider.figures.map((f) => f.profile)], providerRows(provider))}\n\nProvider front: ${describeProfile(PROVIDER)}; the provider Worker's budget: ${JSON.stringify(workerVarsFor(PROVIDER))}.\n`
    : "";
  const markdown = `${header}\n\n${rows.length > 0 ? `${table(rows)}\n` : ""}${providerTable}`;
  console.log(`\n${markdown}`);
  const dir = join(ROOT, "bench-results");
  await mkdir(dir, { recursive: true });
  const json = {
    date,
    machine: { ...host, loadAtStart, loadAtEnd: loadavg()[0] },
    config: { vaults: VAULTS, backlog: BACKLOG, providerBacklog: PROVIDER_BACKLOG, provider: PROVIDER },
    rows,
    figures: { ingest, provider, reconcile, reads, build, fanout, scale, scaleProvider },
  };
  await writeFile(join(dir, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(dir, "latest.md"), markdown);
  await writeFile(join(dir, `bench-${date.replace(/[:.]/g, "-")}.json`), `${JSON.stringify(json, null, 2)}\n`);
  step(`wrote bench-results/latest.json and latest.md`);
}

/** The scale section's steady reconciliation round through a second Worker on a `provider` front (same database). */
async function scaleOnProvider(bench: Bench, stack: StackParts) {
  const { localnet } = stack;
  const front = await localnet!.addFront(PROVIDER);
  const counter = await startRpcCounter(front.rpcUrl);
  stops.push(counter.close);
  const stateDir = join(stateRoot, `bench-scale-provider-${process.pid}`);
  stops.push(() => rm(stateDir, { recursive: true, force: true }));
  step(`scale: starting a Worker on a ${describeProfile(PROVIDER)} front`);
  const worker = await startWranglerDev({
    port: await freePort(),
    stateDir,
    vars: { ...benchVars(stack, counter.url), ...workerVarsFor(PROVIDER) },
    onOutput: workerOutput,
  });
  try {
    const label = `provider (${PROVIDER.latencyMs} ms, ${PROVIDER.requestsPerSecond} req/s, ${PROVIDER.gpaPerSecond} getProgramAccounts/s)`;
    return await benchScaleProvider({ ...bench, worker: worker.url, counter }, label);
  } finally {
    await worker.stop();
  }
}

/**
 * The provider comparison: a second Worker (its own Durable Objects, the same database) on a `provider` front of the
 * same chain, behind a counter of its own, with the budget configured to the provider's; both Workers ingest the same
 * newest PROVIDER_BACKLOG transactions with builds running alongside. BENCH_PROVIDER_NO_BUDGET=1 adds a column with
 * the same provider and no client-side budget (only the client's retries), to show what the budget buys.
 */
async function providerSection(bench: Bench, stack: StackParts, idealWorker: string) {
  const { localnet } = stack;
  const variants: Array<{ name: string; vars: Record<string, string> }> = [
    ...(process.env.BENCH_PROVIDER_NO_BUDGET === "1"
      ? [{ name: "provider, no client budget", vars: { RPC_HISTORY_SLOTS: String(PROVIDER.historySlots) } }]
      : []),
    { name: `provider (${PROVIDER.latencyMs} ms, ${PROVIDER.requestsPerSecond} req/s)`, vars: workerVarsFor(PROVIDER) },
  ];
  const columns: Column[] = [
    {
      name: "ideal",
      worker: idealWorker,
      counter: bench.counter,
      front: localnet!.front,
      profile: localnet!.front.profile,
    },
  ];
  const workers: Array<() => Promise<void>> = [];
  try {
    for (const [i, variant] of variants.entries()) {
      const front = await localnet!.addFront(PROVIDER);
      const counter = await startRpcCounter(front.rpcUrl);
      stops.push(counter.close);
      const stateDir = join(stateRoot, `bench-provider-${i}-${process.pid}`);
      stops.push(() => rm(stateDir, { recursive: true, force: true }));
      step(`provider: starting a Worker "${variant.name}" on a ${describeProfile(PROVIDER)} front`);
      const worker = await startWranglerDev({
        port: await freePort(),
        stateDir,
        vars: { ...benchVars(stack, counter.url), ...variant.vars },
        onOutput: workerOutput,
      });
      stops.push(worker.stop);
      workers.push(worker.stop);
      columns.push({ name: variant.name, worker: worker.url, counter, front: front.front, profile: PROVIDER });
    }
    return await benchProviders(bench, columns, { backlog: PROVIDER_BACKLOG });
  } finally {
    for (const stop of workers) await stop();
  }
}

// Ctrl-C or a kill still stops what was started (workerd, PostgreSQL), then exits.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    process.exit(130);
  });
}

let code = 0;
try {
  await main();
} catch (err) {
  console.error("bench failed:", err);
  code = 1;
} finally {
  for (const stop of stops.reverse()) await stop().catch((err) => console.error("stop failed:", err));
}
process.exit(code);
