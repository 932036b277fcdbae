import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Keypair } from "@solana/web3.js";
import { eq, sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { openReads } from "../../src/db/client.ts";
import { balanceSnapshots, transactions, vaults } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import worker from "../../src/index.ts";
import type { Body } from "./helpers.ts";
import { fireCron, withDb } from "./jobs-support.ts";

const U64_MAX = 18446744073709551615n;
const ADMIN = { "x-api-key": "admin-key-0123456789abcdef" };
/** The proxy's /sql endpoint alone: a route that opens a pool through it fails. */
const sqlOnly = () => ({ NEON_WS_PROXY: inject("neonSqlOnlyProxy"), BENCH_ROUTES: "true" });

/** Calls the Worker with some bindings replaced; the raw body, so u64 literals can be checked digit for digit. */
async function get(path: string, overrides: Record<string, string>, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://vault.test${path}`, { headers }) as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides } as Bindings,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, text, body: JSON.parse(text) as Body };
}

const _asOf = (body: Body) => new Date(String(body.data?.asOf)).getTime();

/**
 * A vault row (and history) for a fresh owner, written through the pool, with amounts at the top of u64. The jobs
 * share this database: valid keys and a slot beyond the chain's make reconciliation leave the row alone (it never
 * overwrites a newer row), and the test removes it afterwards.
 */
async function seedOwner() {
  const owner = Keypair.generate().publicKey.toBase58();
  const depositId = await withDb(async (db) => {
    await db.insert(vaults).values({
      owner,
      vaultAddress: Keypair.generate().publicKey.toBase58(),
      tokenAccount: Keypair.generate().publicKey.toBase58(),
      totalBalance: U64_MAX,
      lockedBalance: U64_MAX - 5n,
      availableBalance: 5n,
      totalDeposited: U64_MAX,
      totalWithdrawn: 0n,
      slot: 9_007_199_254_740_993n,
      // The token account as read with the vault (a row without it is re-read from the chain).
      mint: inject("usdtMint"),
      tokenAmount: U64_MAX,
      tokenSlot: 9_007_199_254_740_993n,
    });
    const [deposit] = await db
      .insert(transactions)
      .values([
        // Landed rows carry their slot (a privileged row without one is an unsigned request, kept out of history).
        { vaultOwner: owner, transactionType: "deposit", amount: U64_MAX, status: "finalized", slot: 41n },
        { vaultOwner: owner, transactionType: "lock", amount: U64_MAX - 5n, status: "confirmed", slot: 42n },
      ])
      .returning({ id: transactions.id });
    await db.insert(balanceSnapshots).values({
      owner,
      totalBalance: U64_MAX,
      lockedBalance: U64_MAX - 5n,
      availableBalance: 5n,
      slot: 42n,
      takenAt: new Date(Date.now() - 60_000),
    });
    return deposit!.id;
  });
  return { owner, depositId };
}

async function removeOwner(owner: string) {
  await withDb(async (db) => {
    await db.delete(vaults).where(eq(vaults.owner, owner));
    await db.delete(transactions).where(eq(transactions.vaultOwner, owner));
    await db.delete(balanceSnapshots).where(eq(balanceSnapshots.owner, owner));
  });
}

/** Every read route under bindings whose database is reachable over HTTP only. */
async function readEverything({ owner, depositId }: { owner: string; depositId: string }) {
  const over = { ...sqlOnly(), BALANCE_CHECK_INTERVAL: "3600" };

  const balance = await get(`/vault/balance/${owner}`, over);
  expect(balance.status, balance.text).toBe(200);
  expect(balance.text).toContain('"totalBalance":18446744073709551615');
  expect(balance.text).toContain('"lockedBalance":18446744073709551610');
  expect(balance.text).toContain('"availableBalance":5');
  expect(balance.text).toContain('"slot":9007199254740993');
  expect(balance.text).toContain('"backedBalance":18446744073709551615');
  expect(balance.body.data).toMatchObject({ owner, source: "cache", formattedTotal: "18446744073709.551615 USDT" });

  const history = await get(`/vault/transactions/${owner}?limit=1`, over);
  expect(history.status, history.text).toBe(200);
  expect(history.body.data).toMatchObject({ owner, total: 2, limit: 1, offset: 0 });
  expect(history.body.data?.transactions).toHaveLength(1);
  const deposits = await get(`/vault/transactions/${owner}?type=deposit`, over);
  expect(deposits.text).toContain('"amount":18446744073709551615');
  expect(deposits.body.data?.total).toBe(1);

  const request = await get(`/transactions/${depositId}`, over);
  expect(request.status, request.text).toBe(200);
  expect(request.text).toContain('"amount":18446744073709551615');
  expect(request.body.data).toMatchObject({ transactionId: depositId, status: "finalized" });

  const series = await get(`/vault/balance/${owner}/history`, over);
  expect(series.status, series.text).toBe(200);
  expect(series.text).toContain('"totalBalance":18446744073709551615');
  // The balance-snapshot job may have added one of its own meanwhile (same figures).
  expect((series.body.data?.points as unknown[] | undefined)?.length).toBeGreaterThan(0);
  const unknown = await get(`/vault/balance/${Keypair.generate().publicKey.toBase58()}/history`, over);
  expect([unknown.status, unknown.body.error?.code]).toEqual([404, "VAULT_NOT_FOUND"]);

  // A fresh snapshot (written through the pool by the TVL job) is served over HTTP.
  await fireCron("*/5 * * * *");
  const tvl = await get("/vault/tvl", over);
  expect(tvl.status, tvl.text).toBe(200);
  expect(tvl.body.data).toMatchObject({ source: "cache" });
  const tvlSeries = await get("/vault/tvl/history?bucket=hour", over);
  expect(tvlSeries.status, tvlSeries.text).toBe(200);
  expect((tvlSeries.body.data?.points as unknown[] | undefined)?.length).toBeGreaterThan(0);

  const health = await get("/health", over);
  expect([health.status, health.body.data?.database]).toEqual([200, true]);
  const status = await get("/monitor/status", over);
  expect(status.body.data?.database).toEqual({ healthy: true });
  const jobs = status.body.data?.jobs as { job: string; lastRun: unknown }[];
  expect(jobs.find((j) => j.job === "tvl")?.lastRun).not.toBeNull();
  const alertList = await get(`/monitor/alerts?status=all&owner=${owner}`, over, ADMIN);
  expect([alertList.status, alertList.body.data?.total]).toEqual([200, 0]);
  expect((await get("/__bench/db-http", over)).status).toBe(200);
}

describe("read routes over Neon's HTTP endpoint", () => {
  it("answer with only POST /sql reachable (no pool opened), u64 values exact to the digit", async () => {
    const seeded = await seedOwner();
    try {
      await readEverything(seeded);
    } finally {
      await removeOwner(seeded.owner);
    }
  });

  it("the pool path fails under the same bindings, so the test above would catch a route opening one", async () => {
    const pool = await get("/__bench/db", sqlOnly());
    // The tunnel is refused: a pool cannot connect, which the API answers as a database outage.
    expect(pool.status).toBe(503);
    expect(pool.body.error?.code).toBe("SERVICE_UNAVAILABLE");
  });

  it("a database error over HTTP keeps its SQLSTATE and comes out in the envelope, without driver text", async () => {
    const reads = openReads(loadConfig(env as Bindings));
    const err = await reads.execute(sql`select 1 / 0`).then(
      () => null,
      (e: unknown) => e as Error & { cause?: { code?: string } },
    );
    expect(err?.cause?.code).toBe("22012");

    const url = new URL(env.DATABASE_URL!);
    url.pathname = "/no_such_database";
    const missing = { ...sqlOnly(), DATABASE_URL: url.toString() };
    const owner = Keypair.generate().publicKey.toBase58();
    for (const path of [`/vault/balance/${owner}`, `/vault/transactions/${owner}`, "/vault/tvl"]) {
      const res = await get(path, missing);
      expect(res.status, path).toBe(500);
      expect(res.body.success).toBe(false);
      expect(res.body.error?.code).toBe("INTERNAL_ERROR");
      expect(res.body.error?.message).toMatch(/^Internal error \(request [\w-]+\)$/);
    }
    const health = await get("/health", missing);
    expect([health.status, health.body.data?.database]).toEqual([503, false]);
    const status = await get("/monitor/status", missing);
    expect(status.body.data?.database).toEqual({ healthy: false });
  });
});
