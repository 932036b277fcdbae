import pg from "pg";
import { closedLoop, getter, type LoadResult } from "./load.ts";
import type { Bench } from "./measures.ts";
import { type Row, times } from "./stats.ts";

const CONCURRENCY = 100;
const DURATION_MS = Number(process.env.BENCH_LOAD_MS ?? 5_000);

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
  // The TVL job keeps a snapshot fresh in production (cron); without one every request recomputes from the chain.
  const snapshot = await fetch(`${b.worker}/__bench/run/tvl`, { method: "POST" });
  if (!snapshot.ok) throw new Error(`tvl job failed: ${snapshot.status} ${await snapshot.text()}`);
  await snapshot.text();
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
