/**
 * The main flows against a localnet that behaves like a paid RPC provider (test/provider/profile.ts): 20 ± 10 ms per
 * request, 50 JSON-RPC items per second with every batch item counted, sendTransaction 5/s, one request in five
 * answered by a node 4 slots behind, and 300 slots of transaction history. The Worker's budget is configured to the
 * provider's. This project has its own chain and database, so what is stored can be compared with the whole chain.
 * The tests drive the chain through an ideal front of the same localnet (`rpcUrl`); the Worker uses the provider
 * front. They run in order and share the chain.
 */
import { env } from "cloudflare:workers";
import { and, count, eq, inArray, isNull } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { lockCollateralIx } from "../../src/chain/program/index.ts";
import { SolanaRpc } from "../../src/chain/rpc.ts";
import { budgetLink, rpcBudget } from "../../src/chain/rpc-budget.ts";
import { loadConfig } from "../../src/config.ts";
import {
  alerts,
  chainTransactions,
  ingestGaps,
  jobRuns,
  transactions,
  tvlSnapshots,
  vaults,
} from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { cursorName, type IngestFigures, ingestFromCursor } from "../../src/ingest/pipeline.ts";
import { reconciliationJob } from "../../src/jobs/reconciliation.ts";
import { tvlJob } from "../../src/jobs/tvl.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { eventually } from "../eventually.ts";
import { confirmed, fundedWallet, rpc, sendSigned } from "../worker/chain.ts";
import { build, buildSignRelay } from "../worker/flow.ts";
import { programId, walletWithVault, withDb } from "../worker/ingest-support.ts";
import { chainTvl, confirmAll, runJobsNow } from "../worker/jobs-support.ts";
import { TEST_PROVIDER_PROFILE } from "./profile.ts";

const bindings = (overrides: Record<string, string> = {}) => ({ ...env, ...overrides }) as unknown as Bindings;

/** Every program signature on the chain, newest first (read through the ideal front). */
async function chainSignatures(): Promise<string[]> {
  const out: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await rpc<{ signature: string }[]>("getSignaturesForAddress", [
      programId().toBase58(),
      { limit: 1000, commitment: "confirmed", ...(before ? { before } : {}) },
    ]);
    out.push(...page.map((p) => p.signature));
    if (page.length < 1000) return out;
    before = page.at(-1)!.signature;
  }
}

const storedCount = () => withDb(async (db) => (await db.select({ n: count() }).from(chainTransactions))[0]!.n);
const openGapCount = () =>
  withDb(async (db) => (await db.select({ n: count() }).from(ingestGaps).where(isNull(ingestGaps.backfilledAt)))[0]!.n);

/** One ingestion pass as the Ingestor's alarm runs it (ingestion class in the shared budget). */
async function pass(overrides: Record<string, string> = {}) {
  const services = backgroundServices(bindings(overrides), { test: "provider" }, "ingest");
  try {
    const figures = await ingestFromCursor(bindings(overrides), services);
    return { figures, rpc: services.rpc };
  } finally {
    await services.close();
  }
}

/**
 * Passes until every program transaction on the chain is stored or recorded as an open gap; a pass that throws
 * fails the test.
 */
async function ingestAll(overrides: Record<string, string> = {}) {
  const passes: IngestFigures[] = [];
  let rpcItems = 0;
  let budgetCalls = 0;
  let failure: unknown = null;
  await eventually(async () => {
    const outcome = await pass(overrides).catch((err: unknown) => {
      failure = err;
      return null;
    });
    if (!outcome) return true;
    const { figures, rpc: used } = outcome;
    passes.push(figures);
    rpcItems += used.items;
    budgetCalls += used.budgetCalls;
    const onChain = (await chainSignatures()).length;
    return figures.complete && (await storedCount()) + (await openGapCount()) === onChain ? true : undefined;
  }, 150_000);
  if (failure) throw new Error(`an ingestion pass failed: ${String(failure)}`, { cause: failure });
  return { passes, rpcItems, budgetCalls };
}

/** `n` locks of 1, 2, … base units on a funded vault, sent back to back through the ideal front. */
async function backlogOfLocks(n: number) {
  const { wallet, owner, vault } = await walletWithVault(10_000_000n);
  const signer = await fundedWallet();
  const sent: string[] = [];
  for (let i = 1; i <= n; i++) {
    const ix = lockCollateralIx({ programId: programId(), authority: signer.publicKey, vault, amount: BigInt(i) });
    sent.push(await sendSigned([ix], [signer], { skipPreflight: true }));
  }
  await confirmAll(sent);
  return { wallet, owner, vault, signatures: sent };
}

describe("the main flows under a provider's limits", () => {
  it("builds and relays succeed through latency, the budget and lagging nodes, each request recorded once", async () => {
    const wallet = await fundedWallet({ usdt: 50_000_000n });
    const owner = wallet.publicKey.toBase58();
    await buildSignRelay("/vault/initialize", { userPubkey: owner }, [wallet]);
    const deposit = await buildSignRelay("/vault/deposit", { userPubkey: owner, amount: 20_000_000 }, [wallet]);
    const withdraw = await buildSignRelay("/vault/withdraw", { userPubkey: owner, amount: 5_000_000 }, [wallet]);
    const rows = await withDb((db) => db.select().from(transactions).where(eq(transactions.vaultOwner, owner)));
    expect(rows.map((r) => r.transactionType).sort()).toEqual(["deposit", "initialize", "withdrawal"]);
    expect(rows.find((r) => r.id === deposit.transactionId)?.signature).toBeTruthy();
    expect(rows.find((r) => r.id === withdraw.transactionId)?.signature).toBeTruthy();
  });

  it("ingests a backlog that saturates the budget exactly once, while user builds keep succeeding", async () => {
    const backlog = await backlogOfLocks(300);
    const funded = await walletWithVault(5_000_000n);
    // Builds, one after another, for as long as ingestion runs (`build` asserts each answers 200): the user class is
    // never held back by ingestion.
    let ingesting = true;
    const builds: string[] = [];
    const building = (async () => {
      while (ingesting) {
        const res = await build("/vault/deposit", { userPubkey: funded.owner, amount: 1_000 + builds.length });
        builds.push(res.transactionId);
      }
    })();
    let result: Awaited<ReturnType<typeof ingestAll>>;
    try {
      result = await ingestAll();
    } finally {
      ingesting = false;
      await building;
    }
    expect(builds.length).toBeGreaterThan(0);
    const built = await withDb((db) => db.select().from(transactions).where(inArray(transactions.id, builds)));
    expect(built).toHaveLength(builds.length);
    // Ingestion waited in the shared budget before its requests, and nothing was stored twice.
    expect(result.budgetCalls).toBeGreaterThan(0);
    const onChain = await chainSignatures();
    expect(await storedCount()).toBe(onChain.length);
    const locks = await withDb((db) =>
      db
        .select()
        .from(transactions)
        .where(and(inArray(transactions.signature, backlog.signatures), eq(transactions.transactionType, "lock"))),
    );
    expect(locks).toHaveLength(300);
    expect(new Set(locks.map((l) => l.signature)).size).toBe(300);
    const [cached] = await withDb((db) => db.select().from(vaults).where(eq(vaults.owner, backlog.owner)));
    expect(cached?.lockedBalance).toBe(BigInt((300 * 301) / 2));
  });

  it("reconciliation finds the cache equal to the chain, and the TVL job sums the chain", async () => {
    await runJobsNow([reconciliationJob], "provider-reconciliation", { RECONCILIATION_INTERVAL: "1" });
    const [run] = await withDb((db) =>
      db.select().from(jobRuns).where(eq(jobRuns.trigger, "provider-reconciliation")).limit(1),
    );
    expect([run?.outcome, run?.error]).toEqual(["ok", null]);
    expect(run?.figures).toMatchObject({ differences: 0, failed: 0, roundComplete: true });
    await runJobsNow([tvlJob], "provider-tvl");
    const [snapshot] = await withDb((db) => db.select().from(tvlSnapshots).orderBy(tvlSnapshots.takenAt).limit(1));
    const truth = await chainTvl();
    expect(snapshot?.totalValueLocked).toBe(truth.total);
    expect(snapshot?.activeVaults).toBe(truth.active);
  });

  it("a user build pays no round trip to the budget before its calls; ingestion waits in it first", async () => {
    const config = loadConfig(env);
    const budget = rpcBudget(bindings(), config.rpcUrls[0]!);
    const before = await budget.stats();
    const user = new SolanaRpc(config, { budget: budgetLink(bindings(), config.rpcBudget), priority: "user" });
    await user.call<number>("getSlot");
    expect([user.requests, user.budgetCalls]).toEqual([1, 0]);
    await user.flush();
    expect((await budget.stats()).userRequests).toBeGreaterThan(before.userRequests);
    const ingest = new SolanaRpc(config, { budget: budgetLink(bindings(), config.rpcBudget), priority: "ingest" });
    await ingest.call<number>("getSlot");
    expect(ingest.budgetCalls).toBe(ingest.requests);
    expect((await budget.stats()).granted.ingest).toBeGreaterThan(before.granted.ingest);
  });
});

/** A lock sent and confirmed through the ideal front; its signature. */
async function lockOnce(vault: Awaited<ReturnType<typeof walletWithVault>>["vault"], amount: bigint) {
  const signer = await fundedWallet();
  const sig = await sendSigned(
    [lockCollateralIx({ programId: programId(), authority: signer.publicKey, vault, amount })],
    [signer],
    { skipPreflight: true },
  );
  await confirmed(sig);
  return sig;
}

async function faults(body: Record<string, unknown> | null) {
  await fetch(`${inject("providerRpcUrl")}/localnet/faults`, {
    method: body ? "POST" : "DELETE",
    body: body ? JSON.stringify(body) : undefined,
  }).then((r) => r.text());
}

const NO_ARCHIVE = { SOLANA_ARCHIVE_RPC_URL: "" };

/** Produces slots at once (through the ideal front's control). */
async function advance(slots: number) {
  await fetch(`${inject("rpcUrl")}/localnet/advance`, { method: "POST", body: JSON.stringify({ slots }) }).then((r) =>
    r.text(),
  );
}

/**
 * A few slots on, so that no node — lagging ones are 4 slots behind — still misses the last transaction: what a
 * pass reads then does not depend on which node answers.
 */
const settle = () => advance(TEST_PROVIDER_PROFILE.lagSlots + 6);
const streamAlert = `ingest_gap:${cursorName(inject("programId"))}`;

describe("a transaction the provider has pruned", () => {
  it("is recorded as a gap with an alert and skipped; the transactions after it are ingested", async () => {
    const { vault, owner } = await walletWithVault(1_000_000n);
    await settle();
    await ingestAll(NO_ARCHIVE);
    const pruned = await lockOnce(vault, 11n);
    // Older than the provider's history (300 slots) by the time ingestion gets to it.
    await advance(TEST_PROVIDER_PROFILE.historySlots + 20);
    const later = await lockOnce(vault, 22n);
    await settle();

    const { figures } = await pass(NO_ARCHIVE);
    expect(figures).toMatchObject({ complete: true, gaps: 1 });
    const stored = await withDb((db) =>
      db
        .select()
        .from(chainTransactions)
        .where(inArray(chainTransactions.signature, [pruned, later])),
    );
    expect(stored.map((s) => s.signature)).toEqual([later]);
    const [gap] = await withDb((db) => db.select().from(ingestGaps).where(eq(ingestGaps.signature, pruned)));
    expect(gap).toMatchObject({ signature: pruned, backfilledAt: null });
    const [alert] = await withDb((db) => db.select().from(alerts).where(eq(alerts.dedupKey, streamAlert)));
    expect(alert).toMatchObject({ kind: "ingest_gap", severity: "critical", status: "open" });
    // The cursor moved past the gap: the next pass records nothing twice.
    expect((await pass(NO_ARCHIVE)).figures).toMatchObject({ complete: true, gaps: 0, committed: 0 });
    const history = await withDb((db) =>
      db
        .select()
        .from(transactions)
        .where(and(eq(transactions.vaultOwner, owner), eq(transactions.transactionType, "lock"))),
    );
    expect(history.map((h) => h.amount)).toEqual([22n]);
  });

  it("is not confused with a lagging node's missing answer: the pass ends before that one and the next ingests it", async () => {
    const { vault } = await walletWithVault(1_000_000n);
    await settle();
    await ingestAll(NO_ARCHIVE);
    const recent = await lockOnce(vault, 33n);
    await settle();
    try {
      // Every getTransaction attempt answered by a node 50 slots behind, which has not seen the transaction yet;
      // every other request by a node at the tip.
      await faults({ lagNext: 100, lagMethod: "getTransaction", lagSlots: 50, lagShare: 0 });
      const { figures } = await pass(NO_ARCHIVE);
      expect(figures).toMatchObject({ complete: false, gaps: 0 });
    } finally {
      await faults(null);
    }
    const gaps = await withDb((db) => db.select().from(ingestGaps).where(eq(ingestGaps.signature, recent)));
    expect(gaps).toHaveLength(0);
    expect((await pass(NO_ARCHIVE)).figures).toMatchObject({ complete: true, committed: 1, gaps: 0 });
  });

  it("is backfilled from the archive endpoint once one is configured, and the alert is resolved", async () => {
    const open = await withDb((db) => db.select().from(ingestGaps).where(isNull(ingestGaps.backfilledAt)));
    expect(open.length).toBeGreaterThan(0);
    const { figures } = await pass();
    expect(figures.backfilled).toBe(open.length);
    const filled = await withDb((db) =>
      db
        .select()
        .from(chainTransactions)
        .where(
          inArray(
            chainTransactions.signature,
            open.map((g) => g.signature),
          ),
        ),
    );
    expect(filled.map((f) => f.source)).toEqual(open.map(() => "archive"));
    const [alert] = await withDb((db) => db.select().from(alerts).where(eq(alerts.dedupKey, streamAlert)));
    expect(alert?.status).toBe("resolved");
    expect(await storedCount()).toBe((await chainSignatures()).length);
  });

  it("with the archive configured from the start, a pruned transaction is read from it in order and no gap is left", async () => {
    const { vault, owner } = await walletWithVault(1_000_000n);
    await settle();
    await ingestAll();
    const old = await lockOnce(vault, 44n);
    await advance(TEST_PROVIDER_PROFILE.historySlots + 20);
    await lockOnce(vault, 55n);
    await settle();
    const { figures } = await pass();
    expect(figures).toMatchObject({ complete: true, gaps: 0, committed: 2 });
    expect(await withDb((db) => db.select().from(ingestGaps).where(eq(ingestGaps.signature, old)))).toHaveLength(0);
    const history = await withDb((db) =>
      db
        .select()
        .from(transactions)
        .where(and(eq(transactions.vaultOwner, owner), eq(transactions.transactionType, "lock"))),
    );
    expect(history.map((h) => h.amount).sort()).toEqual([44n, 55n]);
  });
});
