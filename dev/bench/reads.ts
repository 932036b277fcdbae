import { neon, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { closedLoop, getter, type LoadResult } from "./load.ts";
import type { Bench } from "./measures.ts";
import { type Row, times } from "./stats.ts";

const CONCURRENCY = 100;
const DURATION_MS = Number(process.env.BENCH_LOAD_MS ?? 5_000);
const ALONE_MS = 2_000;

/**
 * Read routes under 100 concurrent connections vs the Worker's no-I/O route, a `select 1` through a per-request pool
 * (/__bench/db) and through the HTTP read handle (/__bench/db-http), and, outside the Worker, the proxy's /sql
 * endpoint driven by `neon()` from Node and a bare Postgres round trip — so each hop's share shows.
 */
export async function benchReads(b: Bench, opts: { neonProxy: string }) {
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
  const route = (path: () => string) => getter(() => `${b.worker}${path()}`, note);
  // The TVL job keeps a snapshot fresh in production (cron); without one every request recomputes from the chain.
  const snapshot = await fetch(`${b.worker}/__bench/run/tvl`, { method: "POST" });
  if (!snapshot.ok) throw new Error(`tvl job failed: ${snapshot.status} ${await snapshot.text()}`);
  await snapshot.text();
  const noop = await run(
    "GET /__bench/noop",
    route(() => "/__bench/noop"),
  );
  const dbRoute = await run(
    "GET /__bench/db",
    route(() => "/__bench/db"),
  );
  const dbHttp = await run(
    "GET /__bench/db-http",
    route(() => "/__bench/db-http"),
  );
  const balance = await run(
    "GET /vault/balance/:owner",
    route(() => `/vault/balance/${pick()}`),
  );
  const tvl = await run(
    "GET /vault/tvl",
    route(() => "/vault/tvl"),
  );

  neonConfig.fetchEndpoint = `http://${opts.neonProxy}/sql`;
  const sql = neon(b.databaseUrl);
  const sqlOnce = async () => {
    await sql.query("select 1");
    return true;
  };
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: 20 });
  const pgOnce = async () => {
    await pool.query("select 1");
    return true;
  };
  const sqlEndpoint = await run("the proxy's /sql endpoint from Node (neon(), select 1)", sqlOnce);
  const bare = await run("bare Postgres select 1 (pool of 20)", pgOnce);

  // One connection at a time: what a single request costs with no queueing (where the time goes).
  const single = (once: () => Promise<boolean>) => closedLoop(once, { concurrency: 1, durationMs: ALONE_MS });
  b.log("reads: the same one request at a time");
  const alone = {
    noop: await single(route(() => "/__bench/noop")),
    db: await single(route(() => "/__bench/db")),
    dbHttp: await single(route(() => "/__bench/db-http")),
    balance: await single(route(() => `/vault/balance/${pick()}`)),
    tvl: await single(route(() => "/vault/tvl")),
    sqlEndpoint: await single(sqlOnce),
    bare: await single(pgOnce),
  };
  await pool.end();

  const fmt = (r: LoadResult) => `p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.perSecond}/s, ${r.errors} errors`;
  const rowFor = (name: string, r: LoadResult): Row => ({
    measure: `${name} (100 conns, ${DURATION_MS / 1000} s)`,
    result: fmt(r),
    baseline: `no-I/O route p50 ${noop.p50} ms · bare Postgres p50 ${bare.p50} ms`,
    ratio: `${times(r.p50 / noop.p50)} noop · ${times(r.p50 / bare.p50)} pg`,
  });
  const minus = (a: LoadResult, z: LoadResult) => Math.round((a.p50 - z.p50) * 10) / 10;
  const p = (r: LoadResult) => `${r.p50}/${r.p99}`;
  const rows: Row[] = [
    rowFor("GET /vault/balance/:owner", balance),
    rowFor("GET /vault/tvl", tvl),
    rowFor("GET /__bench/db (pool + select 1)", dbRoute),
    rowFor("GET /__bench/db-http (HTTP + select 1)", dbHttp),
    { measure: "GET /__bench/noop (no I/O)", result: fmt(noop), baseline: "—", ratio: "1×" },
    {
      measure: "One at a time, p50/p99: noop / db / db-http / balance / tvl",
      result: `${p(alone.noop)} / ${p(alone.db)} / ${p(alone.dbHttp)} / ${p(alone.balance)} / ${p(alone.tvl)} ms`,
      baseline: `/sql from Node ${p(alone.sqlEndpoint)} ms · bare Postgres ${p(alone.bare)} ms`,
      ratio: `pool − noop = ${minus(alone.db, alone.noop)} ms · http − noop = ${minus(alone.dbHttp, alone.noop)} ms`,
    },
    {
      measure: "Proxy /sql endpoint from Node (neon(), 100 conns)",
      result: fmt(sqlEndpoint),
      baseline: "—",
      ratio: "—",
    },
    { measure: "Bare Postgres select 1", result: fmt(bare), baseline: "—", ratio: "—" },
  ];
  return { rows, noop, dbRoute, dbHttp, balance, tvl, sqlEndpoint, bare, alone, sampleErrors: errors };
}
