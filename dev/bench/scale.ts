/**
 * `BENCH_ONLY=ingest,scale`: what the background work costs at the loaded size (BENCH_VAULTS, e.g. 100,000): a
 * whole reconciliation round (invocations, wall time, RPC requests and items, the largest response, the most RPC
 * subrequests one invocation made), the TVL and snapshot jobs, the full program scan the jobs used to make (the
 * baseline), and the seconds from a deposit on chain to a `GET /vault/tvl` that includes it.
 */
import pg from "pg";
import { depositFor } from "./chain-load.ts";
import { type Bench, rpcCall, seconds, sleep } from "./measures.ts";
import { type Row, times } from "./stats.ts";

interface RoundFigures {
  invocations: number;
  ms: number;
  requests: number;
  items: number;
  largestBytes: number;
  largestMethods: string;
  maxRequestsPerInvocation: number;
  maxMsPerInvocation: number;
  batches: number;
  scans: number;
  largestScanAccounts: number;
  complete: boolean;
  /** Requests per method over the round. */
  methods: Record<string, number>;
  /** The round's last recorded run. */
  lastRun: Awaited<ReturnType<typeof jobRun>>;
}

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(2)} MB`;

async function jobRun(b: Bench, job: string) {
  const client = new pg.Client({ connectionString: b.databaseUrl });
  await client.connect();
  try {
    const run = await client.query<{ outcome: string; figures: Record<string, unknown> | null; duration_ms: number }>(
      "select outcome, figures, duration_ms from job_runs where job = $1 and trigger = 'bench' order by started_at desc limit 1",
      [job],
    );
    return run.rows[0] ?? null;
  } finally {
    await client.end();
  }
}

async function post(b: Bench, path: string): Promise<void> {
  const res = await fetch(`${b.worker}${path}`, { method: "POST" });
  if (!res.ok) throw new Error(`${path} failed: ${res.status} ${await res.text()}`);
  await res.text();
}

/** Makes the next reconciliation invocation start a round, as if RECONCILIATION_INTERVAL had passed. */
async function roundDue(b: Bench): Promise<void> {
  const client = new pg.Client({ connectionString: b.databaseUrl });
  await client.connect();
  try {
    await client.query(
      `update cursors set state = jsonb_set(state, '{lastRound}', 'null'::jsonb) where name = 'job:reconciliation'`,
    );
  } finally {
    await client.end();
  }
}

/** Invokes reconciliation as the minute cron would until its round completes (at most 30 invocations). */
export async function reconciliationRound(b: Bench): Promise<RoundFigures> {
  await roundDue(b);
  const f: RoundFigures = {
    invocations: 0,
    ms: 0,
    requests: 0,
    items: 0,
    largestBytes: 0,
    largestMethods: "",
    maxRequestsPerInvocation: 0,
    maxMsPerInvocation: 0,
    batches: 0,
    scans: 0,
    largestScanAccounts: 0,
    complete: false,
    methods: {},
    lastRun: null,
  };
  while (!f.complete && f.invocations < 30) {
    b.counter.reset();
    const t0 = performance.now();
    await post(b, "/__bench/run/reconciliation");
    const ms = performance.now() - t0;
    f.invocations++;
    f.ms += ms;
    f.maxMsPerInvocation = Math.max(f.maxMsPerInvocation, ms);
    f.requests += b.counter.requests;
    f.items += b.counter.items;
    f.maxRequestsPerInvocation = Math.max(f.maxRequestsPerInvocation, b.counter.requests);
    if (b.counter.largestResponse.bytes > f.largestBytes) {
      f.largestBytes = b.counter.largestResponse.bytes;
      f.largestMethods = b.counter.largestResponse.methods;
    }
    for (const [m, n] of b.counter.methods) f.methods[m] = (f.methods[m] ?? 0) + n;
    const run = await jobRun(b, "reconciliation");
    f.lastRun = run;
    const figures = (run?.figures ?? {}) as Record<string, number | boolean>;
    f.batches += Number(figures.batches ?? 0);
    f.scans += Number(figures.discoveryScans ?? 0);
    f.largestScanAccounts = Math.max(f.largestScanAccounts, Number(figures.largestScanAccounts ?? 0));
    f.complete = figures.roundComplete === true;
    b.log(
      `scale: reconciliation invocation ${f.invocations}: ${Math.round(ms)} ms, ${b.counter.requests} RPC requests, ${figures.batches} batches, ${figures.discoveryScans} scans${f.complete ? ", round complete" : ""}`,
    );
  }
  return f;
}

/** One getProgramAccounts over every vault, as the snapshot, low-balance, TVL and reconciliation jobs each made. */
async function fullScan(b: Bench): Promise<{ ms: number; bytes: number }> {
  b.counter.reset();
  const t0 = performance.now();
  const res = await fetch(b.counter.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "getProgramAccounts",
      params: [
        b.localnet.programId.toBase58(),
        {
          encoding: "base64",
          commitment: "confirmed",
          withContext: true,
          dataSlice: { offset: 8, length: 96 },
          filters: [{ dataSize: 121 }],
        },
      ],
    }),
  });
  const bytes = (await res.arrayBuffer()).byteLength;
  return { ms: performance.now() - t0, bytes };
}

async function tvlNow(b: Bench): Promise<bigint> {
  const res = await fetch(`${b.worker}/vault/tvl`);
  const body = JSON.parse(await res.text()) as { data: { recordedTotal: number | string } };
  return BigInt(body.data.recordedTotal);
}

/**
 * A deposit straight on chain (a wallet's), then GET /vault/tvl every 50 ms until it includes the amount. Ingestion
 * runs as in production: the push path (started as the minute cron starts it) with the poll behind it.
 */
async function depositToTvl(b: Bench): Promise<number | null> {
  const owner = b.loaded.funded[0]!;
  const amount = 1_234_567n;
  await post(b, "/__bench/chain-stream");
  await sleep(1_000);
  const before = await tvlNow(b);
  const t0 = performance.now();
  const r = b.localnet.chain.submit([depositFor(b.localnet, owner, amount)], [owner]);
  if (r.meta.err) throw new Error(`deposit failed: ${JSON.stringify(r.meta.err)}`);
  while (performance.now() - t0 < 60_000) {
    if ((await tvlNow(b)) >= before + amount) return performance.now() - t0;
    await sleep(50);
  }
  return null;
}

export async function benchScale(b: Bench) {
  const vaults = b.loaded.vaults.length;
  b.log(`scale: ${vaults} vaults`);
  // The first round finds the vaults only the chain knows (the fixtures: no transaction ever announced them), as after
  // a first deploy against a chain with history pruned; the second is the steady state.
  const first = await reconciliationRound(b);
  const round = await reconciliationRound(b);
  const scan = await fullScan(b);

  b.counter.reset();
  let t0 = performance.now();
  await post(b, "/__bench/run/tvl");
  const tvlMs = performance.now() - t0;
  const tvlRequests = b.counter.requests;

  // The snapshot and low-balance jobs twice: the first writes a point for every vault without one (the fixtures),
  // the second is a steady run (nothing changed).
  await post(b, "/__bench/run/interval");
  const firstSnapshots = await jobRun(b, "balance-snapshots");
  b.counter.reset();
  t0 = performance.now();
  await post(b, "/__bench/run/interval");
  const intervalMs = performance.now() - t0;
  const intervalRequests = b.counter.requests;
  const snapshots = await jobRun(b, "balance-snapshots");

  const toTvl = await depositToTvl(b);
  const fitsAt50 = round.items / 50;
  const rows: Row[] = [
    {
      measure: `First reconciliation round: ${vaults} vaults, those only on chain discovered`,
      result: `${first.complete ? "complete" : "NOT complete"} in ${first.invocations} invocations, ${seconds(first.ms)} of work (longest ${seconds(first.maxMsPerInvocation)}); ${first.batches} getMultipleAccounts + ${first.scans} partition scans; most ${first.maxRequestsPerInvocation} RPC requests in one invocation`,
      baseline: `${first.items} RPC items; largest response ${mb(first.largestBytes)} (${first.largestMethods})`,
      ratio: "—",
    },
    {
      measure: `Reconciliation round over ${vaults} vaults (RECONCILIATION_INTERVAL 300 s: 5 invocations)`,
      result: `${round.complete ? "complete" : "NOT complete"} in ${round.invocations} invocations, ${seconds(round.ms)} of work (longest invocation ${seconds(round.maxMsPerInvocation)}); ${round.batches} getMultipleAccounts + ${round.scans} partition scans`,
      baseline: `${round.items} RPC items = ${fitsAt50.toFixed(0)} s at 50 items/s (interval 300 s)`,
      ratio: `${(300 / Math.max(1, fitsAt50)).toFixed(1)}× headroom`,
    },
    {
      measure: "Largest single RPC response (reconciliation round)",
      result: `${mb(round.largestBytes)} (${round.largestMethods}); largest scan ${round.largestScanAccounts} accounts`,
      baseline: `one full program scan (what each job made): ${mb(scan.bytes)} in ${seconds(scan.ms)}`,
      ratio: `${(scan.bytes / Math.max(1, round.largestBytes)).toFixed(0)}× smaller`,
    },
    {
      measure: "Most RPC subrequests in one reconciliation invocation",
      result: `${round.maxRequestsPerInvocation} HTTP requests (+1 database connection; Durable Object calls only for repairs)`,
      baseline: "Workers' cap: 1,000 subrequests per invocation",
      ratio: "—",
    },
    {
      measure: "TVL job (one SQL statement over the cache)",
      result: `${Math.round(tvlMs)} ms, ${tvlRequests} RPC requests`,
      baseline: `full scan: ${mb(scan.bytes)} response`,
      ratio: "—",
    },
    {
      measure: "Balance snapshots + low-balance jobs (SQL over the cache)",
      result: `${Math.round(intervalMs)} ms, ${intervalRequests} RPC requests (steady run: ${JSON.stringify(snapshots?.figures ?? {})}; first run ${firstSnapshots?.duration_ms ?? "?"} ms, ${JSON.stringify(firstSnapshots?.figures ?? {})})`,
      baseline: "two full scans per 30 s before",
      ratio: "—",
    },
    {
      measure: "Deposit on chain → GET /vault/tvl includes it (push path on)",
      result: toTvl === null ? "not within 60 s" : seconds(toTvl),
      baseline: "TVL snapshot 'fresh' for 10 minutes before",
      ratio: "—",
    },
  ];
  return { rows, first, round, scan, tvlMs, tvlRequests, intervalMs, intervalRequests, toTvlMs: toTvl };
}

/**
 * The steady round again through a Worker on a `provider` front (latency, a per-second budget counting batch items,
 * a separate getProgramAccounts budget) with the client-side budget configured to it: how long the same round takes
 * when the RPC meters it, and whether it still fits the interval.
 */
export async function benchScaleProvider(b: Bench, label: string) {
  const round = await reconciliationRound(b);
  const rows: Row[] = [
    {
      measure: `Reconciliation round, steady state, ${label}`,
      result: `${round.complete ? "complete" : "NOT complete"} in ${round.invocations} invocations, ${seconds(round.ms)} of work (longest invocation ${seconds(round.maxMsPerInvocation)}); ${round.items} RPC items, most ${round.maxRequestsPerInvocation} RPC requests in one invocation`,
      baseline: `largest response ${mb(round.largestBytes)} (${round.largestMethods})`,
      ratio: `${(300 / Math.max(1, round.maxMsPerInvocation / 1000)).toFixed(0)}× the longest invocation fits in 300 s`,
    },
  ];
  return { rows, round };
}

/** A whole reconciliation round over every loaded vault vs a naive getAccountInfo per vault. */
export async function benchReconcile(b: Bench) {
  const vaults = b.loaded.vaults.length;
  b.log(`reconcile: ${vaults} vaults`);
  // A round is spread over the invocations of RECONCILIATION_INTERVAL (5 at the default 300 s): run them all.
  const round = await reconciliationRound(b);
  b.counter.reset();
  const n0 = performance.now();
  for (const vault of b.loaded.vaults) {
    await rpcCall(b.counter.url, "getAccountInfo", [vault.toBase58(), { encoding: "base64", commitment: "confirmed" }]);
  }
  const naiveMs = performance.now() - n0;
  const naiveCalls = b.counter.requests;
  const rows: Row[] = [
    {
      measure: `Reconcile ${vaults} vaults (wall time, a whole round)`,
      result: `${seconds(round.ms)} over ${round.invocations} invocations (${round.lastRun?.outcome ?? "no run recorded"})`,
      baseline: `naive getAccountInfo loop: ${seconds(naiveMs)}`,
      ratio: times(naiveMs / round.ms),
    },
    {
      measure: `Reconcile ${vaults} vaults (RPC requests)`,
      result: `${round.requests}`,
      baseline: `${naiveCalls} (one per vault, vault account only)`,
      ratio: times(naiveCalls / Math.max(1, round.requests)),
    },
  ];
  return {
    rows,
    ms: round.ms,
    rpcCalls: round.requests,
    methods: round.methods,
    job: round.lastRun,
    naiveMs,
    naiveCalls,
  };
}
