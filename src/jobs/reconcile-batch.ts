import { PublicKey } from "@solana/web3.js";
import { and, eq, lte, ne } from "drizzle-orm";
import { decodeTokenAccount, getAccounts, type RawAccount, type TokenAccount } from "../chain/accounts.ts";
import { type CollateralVault, decodeCollateralVault } from "../chain/program/index.ts";
import type { Database, Queryable } from "../db/client.ts";
import { reconciliationLogs, vaults } from "../db/schema.ts";
import { raiseAlert } from "../platform/alerts.ts";
import type { Services } from "../platform/services.ts";
import { backing, tokenColumns } from "../vault/backing.ts";
import { checkTokenAccounts, type TokenCheck } from "./reconcile-token.ts";

export type VaultRow = typeof vaults.$inferSelect;

/** One vault address to reconcile, with whatever the scan and the cache know about it. */
export interface BatchItem {
  address: string;
  /** Token account named by the scan (chain) or the cache; the decoded vault's own field wins. */
  tokenAccount: string | null;
  cached: VaultRow | null;
}

export interface BatchFigures {
  checked: number;
  differences: number;
  repaired: number;
  discovered: number;
  closed: number;
  skippedNewer: number;
  tokenMismatches: number;
  alerts: number;
  failed: number;
}

/** A repaired owner and the balance the cache now holds, for the `balance_update` push. */
export interface Repaired {
  owner: string;
  /** The vault account's address. */
  address: string;
  vault: CollateralVault;
  token: TokenAccount | null;
  slot: number;
}

/** Compared fields: column name as logged ↔ property of both the row and the decoded account. */
export const FIELDS = [
  ["total_balance", "totalBalance"],
  ["locked_balance", "lockedBalance"],
  ["available_balance", "availableBalance"],
  ["total_deposited", "totalDeposited"],
  ["total_withdrawn", "totalWithdrawn"],
] as const;

export const emptyFigures = (): BatchFigures => ({
  checked: 0,
  differences: 0,
  repaired: 0,
  discovered: 0,
  closed: 0,
  skippedNewer: 0,
  tokenMismatches: 0,
  alerts: 0,
  failed: 0,
});

function decodeVault(account: RawAccount | null, programId: PublicKey): CollateralVault | null {
  if (!account?.owner.equals(programId)) return null;
  try {
    return decodeCollateralVault(account.data);
  } catch {
    return null;
  }
}

/**
 * Reconciles up to 50 vaults: one getMultipleAccounts for the vaults and their token accounts at one slot, then
 * repairs, inserts or closes cache rows (never with a slot older than the row's) and logs every differing field.
 */
export async function reconcileBatch(
  services: Services,
  items: BatchItem[],
  minContextSlot: number,
  /** The accounts of `batchKeys(items)` already read at one slot (several batches share one JSON-RPC batch). */
  read?: BatchRead,
): Promise<{ slot: number; figures: BatchFigures; repaired: Repaired[]; sums: TvlSums }> {
  const { config, rpc } = services;
  const { slot, byKey } = read ?? (await readBatch(rpc, items, minContextSlot));
  const sums: TvlSums = { chain: 0n, cache: 0n, backed: 0n };
  const usdt = config.usdtMint.toBase58();
  const figures = emptyFigures();
  const repaired: Repaired[] = [];
  const tokenChecks: TokenCheck[] = [];
  const inserts: (typeof vaults.$inferInsert)[] = [];
  const { db } = services.db();
  for (const item of items) {
    figures.checked++;
    const vault = decodeVault(byKey.get(item.address) ?? null, config.programId);
    // The chain's TVL as a by-product: the chain's total of each vault checked, beside the cache's before repair.
    if (item.cached && item.cached.status !== "closed") sums.cache += item.cached.totalBalance;
    if (!vault) {
      if (item.cached) await closeGone(services, item.cached, slot, figures);
      continue;
    }
    sums.chain += vault.totalBalance;
    let token: TokenAccount | null;
    try {
      token = decodeTokenAccount(byKey.get(vault.tokenAccount.toBase58()) ?? null);
    } catch (err) {
      // Bad chain data is this vault's problem: counted and skipped. Database errors are not caught here: they
      // fail the batch, so the round's position stays before it and the next invocation does the batch again.
      figures.failed++;
      services.log.error("reconciliation: token account undecodable", { vault: item.address, error: err });
      continue;
    }
    sums.backed += backing(
      { totalBalance: vault.totalBalance, ...tokenColumns(token, BigInt(slot)) },
      usdt,
    ).backedBalance;
    tokenChecks.push({ owner: vault.owner.toBase58(), vault, token });
    if (!item.cached) inserts.push(rowFromChain(item.address, vault, token, slot));
    else if (await repairRow(services, item.cached, { vault, token }, slot, figures)) {
      repaired.push({ owner: item.cached.owner, address: item.address, vault, token, slot });
    }
  }
  figures.discovered += await insertDiscovered(db, inserts);
  await checkTokenAccounts(services, tokenChecks, slot, figures);
  return { slot, figures, repaired, sums };
}

/** Sums over a batch's vaults: the chain's recorded totals, the cache's before repair, and the chain's backed USDT. */
export interface TvlSums {
  chain: bigint;
  cache: bigint;
  backed: bigint;
}

/** A batch's accounts (vaults and their token accounts) read at one slot. */
export interface BatchRead {
  slot: number;
  byKey: Map<string, RawAccount | null>;
}

/** The keys a batch reads: each vault and the token account it is known to use (≤ 100 for 50 vaults). */
export function batchKeys(items: BatchItem[]): string[] {
  return [...new Set(items.flatMap((i) => (i.tokenAccount ? [i.address, i.tokenAccount] : [i.address])))];
}

async function readBatch(rpc: Services["rpc"], items: BatchItem[], minContextSlot: number): Promise<BatchRead> {
  const keys = batchKeys(items);
  const { slot, accounts } = await getAccounts(
    rpc,
    keys.map((k) => new PublicKey(k)),
    { minContextSlot },
  );
  return { slot, byKey: new Map(keys.map((k, i) => [k, accounts[i] ?? null])) };
}

function rowFromChain(address: string, vault: CollateralVault, token: TokenAccount | null, slot: number) {
  return {
    owner: vault.owner.toBase58(),
    vaultAddress: address,
    tokenAccount: vault.tokenAccount.toBase58(),
    ...tokenColumns(token, BigInt(slot)),
    totalBalance: vault.totalBalance,
    lockedBalance: vault.lockedBalance,
    availableBalance: vault.availableBalance,
    totalDeposited: vault.totalDeposited,
    totalWithdrawn: vault.totalWithdrawn,
    status: "active",
    chainCreatedAt: new Date(Number(vault.createdAt) * 1000),
    slot: BigInt(slot),
  };
}

/** Chain-only vaults enter the cache; a row written meanwhile (by ingestion) is left alone. */
async function insertDiscovered(db: Database, rows: (typeof vaults.$inferInsert)[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db.insert(vaults).values(rows).onConflictDoNothing().returning({ owner: vaults.owner });
  return inserted.length;
}

/**
 * Compares every field; when any differs, repairs the row only if it does not reflect a newer slot (checked again
 * in the UPDATE, so a concurrent ingestion write wins) and logs one row per field. The token account's columns
 * (what backs the balance) are kept current the same way, without a log row: they are observations, not the
 * program's records. Returns whether it wrote the row.
 */
async function repairRow(
  services: Services,
  row: VaultRow,
  chain: { vault: CollateralVault; token: TokenAccount | null },
  slot: number,
  figures: BatchFigures,
): Promise<boolean> {
  const { vault } = chain;
  if (row.slot > BigInt(slot)) {
    figures.skippedNewer++;
    return false;
  }
  const diffs = FIELDS.filter(([, key]) => row[key] !== vault[key]).map(([field, key]) => ({
    field,
    expected: vault[key],
    actual: row[key],
    difference: vault[key] - row[key],
  }));
  const reopen = row.status === "closed";
  const token = tokenColumns(chain.token, BigInt(slot));
  const tokenChanged =
    row.tokenSlot === null ||
    row.mint !== token.mint ||
    row.tokenAmount !== token.tokenAmount ||
    row.tokenFrozen !== token.tokenFrozen;
  if (diffs.length === 0 && !reopen && !tokenChanged) return false;
  // The repair, its log rows and its alert commit together: a database that fails midway leaves the row as it was
  // (to be repaired and logged by the next run), never repaired without a trace.
  const outcome = await services.db().db.transaction(async (tx) => {
    const updated = await tx
      .update(vaults)
      .set({
        totalBalance: vault.totalBalance,
        lockedBalance: vault.lockedBalance,
        availableBalance: vault.availableBalance,
        totalDeposited: vault.totalDeposited,
        totalWithdrawn: vault.totalWithdrawn,
        ...token,
        ...(reopen ? { status: "active" } : {}),
        slot: BigInt(slot),
        updatedAt: new Date(),
      })
      .where(and(eq(vaults.owner, row.owner), lte(vaults.slot, BigInt(slot))))
      .returning({ owner: vaults.owner });
    if (updated.length === 0) return "newer" as const;
    if (diffs.length === 0) return { alerted: false };
    await tx
      .insert(reconciliationLogs)
      .values(diffs.map((d) => ({ owner: row.owner, ...d, slot: BigInt(slot), repaired: true })));
    return { alerted: await alertOnDifferences(services, tx, row.owner, diffs, slot) };
  });
  if (outcome === "newer") {
    figures.skippedNewer++;
    return false;
  }
  if (diffs.length > 0) {
    figures.differences += diffs.length;
    figures.repaired++;
  }
  if (outcome.alerted) figures.alerts++;
  return true;
}

/** Raises the mismatch alert (inside the repair's transaction) when a difference exceeds the threshold. */
async function alertOnDifferences(
  services: Services,
  db: Queryable,
  owner: string,
  diffs: { field: string; expected: bigint; actual: bigint; difference: bigint }[],
  slot: number,
): Promise<boolean> {
  const threshold = services.config.reconciliationAlertThreshold * 1_000_000n;
  const large = diffs.filter((d) => (d.difference < 0n ? -d.difference : d.difference) > threshold);
  if (large.length === 0) return false;
  const id = await raiseAlert(db, {
    kind: "reconciliation_mismatch",
    severity: "warning",
    owner,
    dedupKey: `reconciliation_mismatch:${owner}:${slot}`,
    message: `Cached vault of ${owner} differed from the chain at slot ${slot} (${large.map((d) => d.field).join(", ")}); repaired`,
    details: {
      slot,
      fields: large.map((d) => ({
        ...d,
        expected: `${d.expected}`,
        actual: `${d.actual}`,
        difference: `${d.difference}`,
      })),
    },
  });
  return id !== null;
}

/** A cached vault whose account is gone from the chain is marked closed (unless the row is newer). */
async function closeGone(services: Services, row: VaultRow, slot: number, figures: BatchFigures): Promise<void> {
  if (row.status === "closed") return;
  const { db } = services.db();
  const updated = await db
    .update(vaults)
    .set({ status: "closed", slot: BigInt(slot), updatedAt: new Date() })
    .where(and(eq(vaults.owner, row.owner), lte(vaults.slot, BigInt(slot)), ne(vaults.status, "closed")))
    .returning({ owner: vaults.owner });
  if (updated.length === 0) return;
  figures.closed++;
  const id = await raiseAlert(db, {
    kind: "vault_missing_on_chain",
    severity: "warning",
    owner: row.owner,
    dedupKey: `vault_missing_on_chain:${row.owner}`,
    message: `The vault ${row.vaultAddress} of ${row.owner} no longer exists on chain (slot ${slot}); marked closed`,
    details: { slot, vaultAddress: row.vaultAddress },
  });
  if (id !== null) figures.alerts++;
}
