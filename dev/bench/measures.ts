import type { Keypair } from "@solana/web3.js";
import pg from "pg";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import type { Localnet } from "../localnet/index.ts";
import type { LoadedChain } from "./chain-load.ts";
import { closedLoop, getter, type LoadResult } from "./load.ts";
import type { RpcCounter } from "./rpc-counter.ts";
import { latency, type Row, times } from "./stats.ts";
import { fanoutFigures, openSockets } from "./ws-fanout.ts";

export interface Bench {
  worker: string;
  databaseUrl: string;
  localnet: Localnet;
  counter: RpcCounter;
  loaded: LoadedChain;
  webhookSecret: string;
  log: (what: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function rpcCall<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Every program signature on the chain (the truth the stored count is checked against). */
async function programSignatures(b: Bench): Promise<string[]> {
  const out: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await rpcCall<{ signature: string }[]>(b.localnet.rpcUrl, "getSignaturesForAddress", [
      b.localnet.programId.toBase58(),
      { limit: 1000, commitment: "confirmed", ...(before ? { before } : {}) },
    ]);
    out.push(...page.map((s) => s.signature));
    if (page.length < 1000) return out;
    before = page[page.length - 1]!.signature;
  }
}

async function count(client: pg.Client, sql: string): Promise<number> {
  return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
}

/** Ingestion of the whole backlog by the Ingestor (kicked by one webhook call) vs one-by-one fetch-and-insert. */
export async function benchIngest(b: Bench) {
  const signatures = await programSignatures(b);
  b.log(`ingest: ${signatures.length} program transactions on chain; kicking the Ingestor`);
  const client = new pg.Client({ connectionString: b.databaseUrl });
  await client.connect();
  try {
    b.counter.reset();
    const t0 = performance.now();
    const kick = await fetch(`${b.worker}/webhooks/helius`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: b.webhookSecret },
      body: JSON.stringify([{ signature: signatures[0] }]),
    });
    if (!kick.ok) throw new Error(`webhook kick failed: ${kick.status} ${await kick.text()}`);
    let stored = 0;
    const deadline = Date.now() + 240_000;
    while (stored < signatures.length && Date.now() < deadline) {
      await sleep(200);
      stored = await count(client, "select count(*) as n from chain_transactions");
    }
    const ms = performance.now() - t0;
    const rpcCalls = b.counter.requests;
    const rate = (stored / ms) * 1000;

    // Baseline: what a naive ingester does, on a sample: getTransaction, then one INSERT, one at a time.
    await client.query("create table if not exists bench_naive (signature text primary key, tx jsonb)");
    const sample = signatures.slice(0, 500);
    const n0 = performance.now();
    for (const sig of sample) {
      const tx = await rpcCall(b.localnet.rpcUrl, "getTransaction", [
        sig,
        { encoding: "json", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
      ]);
      await client.query("insert into bench_naive values ($1, $2) on conflict do nothing", [sig, JSON.stringify(tx)]);
    }
    const naiveRate = (sample.length / (performance.now() - n0)) * 1000;
    const exact = stored === signatures.length;
    const rows: Row[] = [
      {
        measure: `Ingest backlog of ${signatures.length} program txs`,
        result: `${Math.round(rate)} tx/s (${seconds(ms)}, ${rpcCalls} RPC requests)`,
        baseline: `one-by-one fetch+insert: ${Math.round(naiveRate)} tx/s (sample of ${sample.length})`,
        ratio: times(rate / naiveRate),
      },
      {
        measure: "Ingest: stored count vs chain",
        result: `${stored} stored`,
        baseline: `${signatures.length} on chain`,
        ratio: exact ? "exact" : `MISMATCH (${stored - signatures.length})`,
      },
    ];
    return {
      rows,
      stored,
      onChain: signatures.length,
      ms,
      rpcCalls,
      methods: Object.fromEntries(b.counter.methods),
      naiveRate,
    };
  } finally {
    await client.end();
  }
}

/** One reconciliation invocation over every vault vs a naive getAccountInfo per vault. */
export async function benchReconcile(b: Bench) {
  const vaults = b.loaded.vaults.length;
  b.log(`reconcile: ${vaults} vaults`);
  b.counter.reset();
  const t0 = performance.now();
  const res = await fetch(`${b.worker}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}`);
  await res.text();
  const ms = performance.now() - t0;
  const rpcCalls = b.counter.requests;
  const methods = Object.fromEntries(b.counter.methods);
  const client = new pg.Client({ connectionString: b.databaseUrl });
  await client.connect();
  const run = await client.query<{ outcome: string; figures: unknown; duration_ms: number }>(
    "select outcome, figures, duration_ms from job_runs where job = 'reconciliation' order by started_at desc limit 1",
  );
  await client.end();

  b.counter.reset();
  const n0 = performance.now();
  for (const vault of b.loaded.vaults) {
    await rpcCall(b.counter.url, "getAccountInfo", [vault.toBase58(), { encoding: "base64", commitment: "confirmed" }]);
  }
  const naiveMs = performance.now() - n0;
  const naiveCalls = b.counter.requests;
  const rows: Row[] = [
    {
      measure: `Reconcile ${vaults} vaults (wall time)`,
      result: `${seconds(ms)} (${run.rows[0]?.outcome ?? "no run recorded"})`,
      baseline: `naive getAccountInfo loop: ${seconds(naiveMs)}`,
      ratio: times(naiveMs / ms),
    },
    {
      measure: `Reconcile ${vaults} vaults (RPC requests)`,
      result: `${rpcCalls}`,
      baseline: `${naiveCalls} (one per vault, vault account only)`,
      ratio: times(naiveCalls / Math.max(1, rpcCalls)),
    },
  ];
  return { rows, ms, rpcCalls, methods, job: run.rows[0] ?? null, naiveMs, naiveCalls };
}

const CONCURRENCY = 100;
const DURATION_MS = Number(process.env.BENCH_LOAD_MS ?? 8_000);

/** Read routes under 100 concurrent connections vs the Worker's no-I/O route and a bare Postgres round trip. */
export async function benchReads(b: Bench) {
  const owners = b.loaded.owners.map((o) => o.publicKey.toBase58());
  const pick = () => owners[Math.floor(Math.random() * owners.length)]!;
  const errors: string[] = [];
  const note = (status: number, body: string) => {
    if (errors.length < 3) errors.push(`${status} ${body.slice(0, 160)}`);
  };
  const run = async (name: string, once: () => Promise<boolean>) => {
    b.log(`reads: ${name} × ${CONCURRENCY} connections for ${DURATION_MS} ms`);
    return closedLoop(once, { concurrency: CONCURRENCY, durationMs: DURATION_MS });
  };
  const noop = await run(
    "GET /__bench/noop",
    getter(() => `${b.worker}/__bench/noop`, note),
  );
  const dbRoute = await run(
    "GET /__bench/db",
    getter(() => `${b.worker}/__bench/db`, note),
  );
  const balance = await run(
    "GET /vault/balance/:owner",
    getter(() => `${b.worker}/vault/balance/${pick()}`, note),
  );
  const tvl = await run(
    "GET /vault/tvl",
    getter(() => `${b.worker}/vault/tvl`, note),
  );
  // One connection at a time: what a single request costs with no queueing (where the time goes).
  const single = async (url: () => string) => closedLoop(getter(url), { concurrency: 1, durationMs: 2_000 });
  b.log("reads: the same routes one request at a time");
  const alone = {
    noop: await single(() => `${b.worker}/__bench/noop`),
    db: await single(() => `${b.worker}/__bench/db`),
    balance: await single(() => `${b.worker}/vault/balance/${pick()}`),
    tvl: await single(() => `${b.worker}/vault/tvl`),
  };
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: 20 });
  const bare = await run("bare Postgres select 1 (pool of 20)", async () => {
    await pool.query("select 1");
    return true;
  });
  await pool.end();
  const fmt = (r: LoadResult) => `p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.perSecond}/s, ${r.errors} errors`;
  const rowFor = (name: string, r: LoadResult): Row => ({
    measure: `${name} (100 conns, ${DURATION_MS / 1000} s)`,
    result: fmt(r),
    baseline: `no-I/O route p50 ${noop.p50} ms · bare Postgres p50 ${bare.p50} ms`,
    ratio: `${times(r.p50 / noop.p50)} noop · ${times(r.p50 / bare.p50)} pg`,
  });
  const rows: Row[] = [
    rowFor("GET /vault/balance/:owner", balance),
    rowFor("GET /vault/tvl", tvl),
    rowFor("GET /__bench/db (pool + select 1)", dbRoute),
    { measure: "GET /__bench/noop (no I/O)", result: fmt(noop), baseline: "—", ratio: "1×" },
    {
      measure: "One request at a time: noop / db / balance / tvl",
      result: `p50 ${alone.noop.p50} / ${alone.db.p50} / ${alone.balance.p50} / ${alone.tvl.p50} ms`,
      baseline: `bare Postgres p50 ${bare.p50} ms (100 callers)`,
      ratio: `db route − noop = ${Math.round((alone.db.p50 - alone.noop.p50) * 10) / 10} ms per request`,
    },
    { measure: "Bare Postgres select 1", result: fmt(bare), baseline: "—", ratio: "—" },
  ];
  return { rows, noop, dbRoute, balance, tvl, bare, alone, sampleErrors: errors };
}

/** Sequential POST /vault/deposit builds for funded owners: p50/p99. */
export async function benchBuild(b: Bench) {
  const sample: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const n = Number(process.env.BENCH_BUILDS ?? 300);
  b.log(`build: ${n} POST /vault/deposit`);
  for (let i = 0; i < n; i++) {
    const owner = b.loaded.funded[i % b.loaded.funded.length]!.publicKey.toBase58();
    const t0 = performance.now();
    const res = await fetch(`${b.worker}/vault/deposit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userPubkey: owner, amount: 1_000 + i }),
    });
    const text = await res.text();
    sample.push(performance.now() - t0);
    if (!res.ok) {
      errors++;
      firstError ??= `${res.status} ${text.slice(0, 200)}`;
    }
  }
  const l = latency(sample);
  const rows: Row[] = [
    {
      measure: "Transaction build (POST /vault/deposit, sequential)",
      result: `p50 ${l.p50} ms, p99 ${l.p99} ms, ${errors} errors of ${n}`,
      baseline: "—",
      ratio: "—",
    },
  ];
  return { rows, ...l, errors, firstError };
}

/** 1,000 sockets over 100 owners; one deposit per owner on chain; time until each socket hears it. */
export async function benchFanout(b: Bench) {
  const owners = b.loaded.funded.slice(0, 100);
  b.log(`fan-out: opening ${owners.length * 10} sockets`);
  const sockets = await openSockets(
    b.worker,
    owners.map((o) => o.publicKey.toBase58()),
    10,
  );
  await sleep(2_000);
  const sent = new Map<string, { signature: string; at: number }>();
  for (const owner of owners) sent.set(owner.publicKey.toBase58(), depositOnChain(b, owner));
  // Pushed at once, as Helius would: the webhook path; the Ingestor's poll is the fallback.
  await fetch(`${b.worker}/webhooks/helius`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: b.webhookSecret },
    body: JSON.stringify([...sent.values()].map((s) => ({ signature: s.signature }))),
  }).then((r) => r.text());
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const done = sockets.every((s) => s.arrivals.has(sent.get(s.owner)!.signature) || s.closed);
    if (done) break;
    await sleep(100);
  }
  const figures = fanoutFigures(sockets, sent);
  for (const s of sockets) s.ws.terminate();
  const rows: Row[] = [
    {
      measure: `WebSocket fan-out: ${sockets.length} sockets / ${owners.length} owners`,
      result: `chain-to-socket p50 ${figures.p50} ms, p99 ${figures.p99} ms`,
      baseline: `${figures.lost} events lost, ${figures.closed} sockets closed`,
      ratio: "—",
    },
  ];
  return { rows, ...figures, sockets: sockets.length };
}

function depositOnChain(b: Bench, owner: Keypair): { signature: string; at: number } {
  const { chain, programId, usdtMint } = b.localnet;
  const [vault] = findVaultAddress(programId, owner.publicKey);
  const ix = depositIx({
    programId,
    user: owner.publicKey,
    userTokenAccount: associatedTokenAddress(owner.publicKey, usdtMint),
    vaultTokenAccount: vaultTokenAccountAddress(vault, usdtMint),
    amount: 1_000_000n,
  });
  const at = performance.now();
  const r = chain.submit([ix], [owner]);
  if (r.meta.err) throw new Error(`deposit failed: ${JSON.stringify(r.meta.err)}`);
  return { signature: r.signature, at };
}
