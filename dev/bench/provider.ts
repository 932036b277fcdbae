/**
 * The provider column: the same ingestion backlog (the newest N program transactions) by a Worker on the `ideal`
 * front and by one on a `provider` front (40 ± 10 ms, 50 requests/s counting batch items, sendTransaction 5/s, one
 * request in ten from a node 8 slots behind) whose budget is configured to the provider's, each while user builds
 * run alongside. Then builds alone on the provider Worker, to count the budget round trips a build makes.
 */
import pg from "pg";
import type { Profile } from "../localnet/profile.ts";
import type { Front } from "../localnet/server.ts";
import { type Bench, count, programSignatures, seconds, sleep } from "./measures.ts";
import type { RpcCounter } from "./rpc-counter.ts";
import { latency } from "./stats.ts";

/** One Worker and the front it reads the chain through. */
export interface Column {
  name: string;
  worker: string;
  counter: RpcCounter;
  front: Front;
  profile: Profile;
}

interface PassRpc {
  requests: number;
  items: number;
  rateLimited: number;
  retried: number;
  budgetCalls: number;
  budgetWaitMs: number;
}

interface BudgetStats {
  granted: { ingest: number; background: number };
  waitedMs: { ingest: number; background: number };
  userRequests: number;
  userItems: number;
}

const BUILD_INTERVAL_MS = Number(process.env.BENCH_BUILD_INTERVAL_MS ?? 1_000);

async function resetTo(client: pg.Client, programId: string, cursor: { signature: string; slot: number } | null) {
  await client.query("truncate chain_transactions, transactions, vaults, alerts, ingest_gaps");
  await client.query("delete from cursors where name like 'ingest%'");
  if (cursor) {
    await client.query("insert into cursors (name, signature, slot) values ($1, $2, $3)", [
      `ingest:${programId}`,
      cursor.signature,
      cursor.slot,
    ]);
  }
}

async function budgetStats(worker: string): Promise<BudgetStats> {
  const res = await fetch(`${worker}/__bench/rpc-budget`);
  return ((await res.json()) as { data: BudgetStats }).data;
}

/** Latencies and failures of a series of builds. */
class Builds {
  private sample: number[] = [];
  private errors = 0;
  private firstError: string | null = null;

  /** One POST /vault/deposit for a funded owner; returns its milliseconds. */
  async one(b: Bench, worker: string, i: number): Promise<number> {
    const owner = b.loaded.funded[i % b.loaded.funded.length]!.publicKey.toBase58();
    const t0 = performance.now();
    const res = await fetch(`${worker}/vault/deposit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userPubkey: owner, amount: 2_000 + i }),
    }).catch((err: unknown) => err as Error);
    const text = res instanceof Error ? res.message : await res.text();
    const ms = performance.now() - t0;
    this.sample.push(ms);
    if (res instanceof Error || !res.ok) {
      this.errors++;
      this.firstError ??= `${res instanceof Error ? "fetch" : res.status} ${text.slice(0, 200)}`;
    }
    return ms;
  }

  figures() {
    return { ...latency(this.sample), builds: this.sample.length, errors: this.errors, firstError: this.firstError };
  }
}

type BuildFigures = ReturnType<Builds["figures"]>;

/** Sequential builds, one started every `intervalMs` (or right after the last when it took longer), until stopped. */
function buildLoop(b: Bench, worker: string, intervalMs: number) {
  const builds = new Builds();
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const ms = await builds.one(b, worker, i);
      if (running) await sleep(Math.max(0, intervalMs - ms));
    }
  })();
  return {
    async stop(): Promise<BuildFigures> {
      running = false;
      await done;
      return builds.figures();
    },
  };
}

/** Ingests the backlog after `cursor` through one column's Worker, with builds alongside. */
async function ingestColumn(b: Bench, client: pg.Client, col: Column, backlog: number) {
  col.counter.reset();
  const served = { ...col.front.meter.served };
  const budgetBefore = await budgetStats(col.worker);
  const builds = buildLoop(b, col.worker, BUILD_INTERVAL_MS);
  const t0 = performance.now();
  const ingest: PassRpc = { requests: 0, items: 0, rateLimited: 0, retried: 0, budgetCalls: 0, budgetWaitMs: 0 };
  let passes = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  let stored = 0;
  let build: BuildFigures | null = null;
  const deadline = Date.now() + 900_000;
  try {
    while (stored < backlog && Date.now() < deadline) {
      passes++;
      const res = await fetch(`${col.worker}/__bench/run/ingest`, { method: "POST" });
      const text = await res.text();
      if (!res.ok) {
        failed++;
        firstFailure ??= `${res.status} ${text.slice(0, 300)}`;
        await sleep(1_000);
      } else {
        const rpc = (JSON.parse(text) as { data: { rpc: PassRpc } }).data.rpc;
        for (const k of Object.keys(ingest) as (keyof PassRpc)[]) ingest[k] += rpc[k];
      }
      stored = await count(client, "select count(*) as n from chain_transactions");
    }
  } finally {
    build = await builds.stop();
  }
  const ms = performance.now() - t0;
  const budgetAfter = await budgetStats(col.worker);
  const perSecond = col.profile.requestsPerSecond;
  const answered = col.counter.items - col.counter.rateLimited;
  const ingestAnswered = ingest.items - ingest.rateLimited;
  return {
    profile: col.name,
    backlog,
    stored,
    ms,
    rate: (stored / ms) * 1000,
    passes,
    failed,
    firstFailure,
    requests: col.counter.requests,
    items: col.counter.items,
    rateLimited: col.counter.rateLimited,
    methods: Object.fromEntries(col.counter.methods),
    ingest,
    lagged: col.front.meter.served.lagged - served.lagged,
    budget: perSecond
      ? {
          perSecond,
          share: answered / (ms / 1000) / perSecond,
          ingestionShare: ingestAnswered / (ms / 1000) / perSecond,
          acquisitions: budgetAfter.granted.ingest - budgetBefore.granted.ingest,
          userRequestsReported: budgetAfter.userRequests - budgetBefore.userRequests,
        }
      : null,
    build,
  };
}

/** Builds alone on a Worker: how many budget acquisitions (round trips before a call) and spend reports they make. */
async function buildsAlone(b: Bench, col: Column, n: number) {
  const before = await budgetStats(col.worker);
  const builds = new Builds();
  for (let i = 0; i < n; i++) await builds.one(b, col.worker, 10_000 + i);
  await sleep(1_000); // the last build's spend report runs after its response
  const after = await budgetStats(col.worker);
  const build = builds.figures();
  return {
    builds: build.builds,
    p50: build.p50,
    p99: build.p99,
    errors: build.errors,
    acquisitions: after.granted.ingest + after.granted.background - before.granted.ingest - before.granted.background,
    reportedRequests: after.userRequests - before.userRequests,
  };
}

export type ColumnFigures = Awaited<ReturnType<typeof ingestColumn>>;

/** Runs the comparison; one figure set per column, plus the build-only round-trip count on the last column. */
export async function benchProviders(b: Bench, columns: Column[], opts: { backlog: number }) {
  const signatures = await programSignatures(b);
  const backlog = Math.min(opts.backlog, signatures.length);
  const cursor = signatures[backlog] ?? null;
  const client = new pg.Client({ connectionString: b.databaseUrl });
  await client.connect();
  const figures: ColumnFigures[] = [];
  try {
    for (const col of columns) {
      await resetTo(client, b.localnet.programId.toBase58(), cursor);
      b.log(`provider: ${col.name}: ingesting the newest ${backlog} transactions with builds alongside`);
      const f = await ingestColumn(b, client, col, backlog);
      b.log(
        `provider: ${col.name}: ${Math.round(f.rate)} tx/s in ${seconds(f.ms)}, ${f.items} items, ${f.rateLimited} refused, budget ${JSON.stringify(f.budget)}`,
      );
      figures.push(f);
    }
    const last = columns.at(-1)!;
    b.log(`provider: builds alone on ${last.name}`);
    const alone = await buildsAlone(b, last, 20);
    // The sections after this one expect the whole backlog ingested (as the ingest section leaves it).
    b.log("provider: restoring the fully ingested cache on the first Worker");
    await resetTo(client, b.localnet.programId.toBase58(), null);
    while ((await count(client, "select count(*) as n from chain_transactions")) < signatures.length) {
      const res = await fetch(`${columns[0]!.worker}/__bench/run/ingest`, { method: "POST" });
      if (!res.ok) throw new Error(`restoring ingestion failed: ${res.status} ${await res.text()}`);
      await res.text();
    }
    return { figures, alone };
  } finally {
    await client.end();
  }
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

/** The comparison as rows of a table whose columns are the profiles. */
export function providerRows(result: Awaited<ReturnType<typeof benchProviders>>): string[][] {
  const { figures, alone } = result;
  const row = (measure: string, cell: (f: ColumnFigures) => string) => [measure, ...figures.map(cell)];
  return [
    row(
      "Backlog ingested (newest program txs)",
      (f) => `${f.stored} / ${f.backlog} stored${f.stored === f.backlog ? " (exact)" : " MISMATCH"}`,
    ),
    row("Ingestion throughput", (f) => `${Math.round(f.rate)} tx/s (${seconds(f.ms)})`),
    row("Passes / failed passes", (f) => `${f.passes} / ${f.failed}`),
    row("RPC HTTP requests / JSON-RPC items", (f) => `${f.requests} / ${f.items}`),
    row("429s received (items refused)", (f) => `${f.rateLimited}`),
    row("Requests answered by a lagging node", (f) => `${f.lagged}`),
    row("Budget used: all answered items / ingestion's", (f) =>
      f.budget ? `${pct(f.budget.share)} / ${pct(f.budget.ingestionShare)} of ${f.budget.perSecond}/s` : "no budget",
    ),
    row("Ingestion's turns in the shared budget (mean wait; batches queue for their turn)", (f) =>
      f.ingest.budgetCalls
        ? `${f.ingest.budgetCalls} acquisitions, ${Math.round(f.ingest.budgetWaitMs / f.ingest.budgetCalls)} ms`
        : "—",
    ),
    row(
      `Builds while ingesting (1 per ${BUILD_INTERVAL_MS} ms)`,
      (f) => `p50 ${f.build.p50} ms, p99 ${f.build.p99} ms, ${f.build.errors} errors of ${f.build.builds}`,
    ),
    [
      "Builds alone: budget round trips before their RPC calls",
      ...figures.map((_, i) =>
        i === figures.length - 1
          ? `${alone.acquisitions} over ${alone.builds} builds (spend reported after the response: ${alone.reportedRequests} requests); p50 ${alone.p50} ms`
          : "—",
      ),
    ],
  ];
}
