import type { PublicKey } from "@solana/web3.js";
import { eq, sql } from "drizzle-orm";
import { AppError } from "../api/errors.ts";
import type { CollateralVault } from "../chain/program/index.ts";
import type { Database } from "../db/client.ts";
import { vaults } from "../db/schema.ts";
import type { Services } from "../env.ts";
import { formatUsdt } from "../lib/amount.ts";
import { readVaultChainView } from "./chain-view.ts";

export type VaultRow = typeof vaults.$inferSelect;

/** Writes the chain's view of a vault into the cache unless the cache already reflects a newer slot. */
export async function upsertVaultFromChain(
  db: Database,
  p: {
    owner: string;
    vaultAddress: string;
    vault: CollateralVault;
    mint: string | null;
    slot: bigint;
    paused?: boolean;
  },
): Promise<void> {
  const values = {
    owner: p.owner,
    vaultAddress: p.vaultAddress,
    tokenAccount: p.vault.tokenAccount.toBase58(),
    mint: p.mint,
    totalBalance: p.vault.totalBalance,
    lockedBalance: p.vault.lockedBalance,
    availableBalance: p.vault.availableBalance,
    totalDeposited: p.vault.totalDeposited,
    totalWithdrawn: p.vault.totalWithdrawn,
    chainCreatedAt: new Date(Number(p.vault.createdAt) * 1000),
    slot: p.slot,
    updatedAt: new Date(),
  };
  const { owner: _owner, ...update } = values;
  await db
    .insert(vaults)
    .values(values)
    .onConflictDoUpdate({ target: vaults.owner, set: update, setWhere: sql`${vaults.slot} <= ${p.slot}` });
}

/**
 * The owner's balance: from the cache when it is fresh (younger than BALANCE_CHECK_INTERVAL), otherwise read from
 * the chain and written back (slot-guarded). Unknown vault → VAULT_NOT_FOUND.
 */
export async function vaultBalance(services: Services, owner: PublicKey) {
  const key = owner.toBase58();
  // One HTTP round trip; the pool is opened only when the chain's view has to be written back.
  const [cached] = await services.reads().select().from(vaults).where(eq(vaults.owner, key)).limit(1);
  const maxAgeMs = services.config.balanceCheckIntervalSec * 1000;
  if (cached && cached.status !== "closed" && Date.now() - cached.updatedAt.getTime() <= maxAgeMs) {
    return balanceView(cached, "cache");
  }
  const view = await readVaultChainView(services.rpc, services.config, owner).catch((err) => {
    // The chain is unreachable: a cached row, even stale, beats an error for a read.
    if (cached) return null;
    throw err;
  });
  if (!view) return balanceView(cached!, "cache");
  if (!view.vault) throw new AppError("VAULT_NOT_FOUND", `No vault exists for ${key}`);
  const { db } = services.db();
  await upsertVaultFromChain(db, {
    owner: key,
    vaultAddress: view.vaultAddress.toBase58(),
    vault: view.vault,
    mint: view.vaultToken?.mint.toBase58() ?? null,
    slot: BigInt(view.slot),
  });
  const [row] = await db.select().from(vaults).where(eq(vaults.owner, key)).limit(1);
  return balanceView(row!, "chain");
}

/** The design document's balance shape, plus the fields a frontend needs. */
export function balanceView(row: VaultRow, source: "cache" | "chain") {
  return {
    owner: row.owner,
    totalBalance: row.totalBalance,
    lockedBalance: row.lockedBalance,
    availableBalance: row.availableBalance,
    formattedTotal: formatUsdt(row.totalBalance),
    formattedAvailable: formatUsdt(row.availableBalance),
    formattedLocked: formatUsdt(row.lockedBalance),
    vaultAddress: row.vaultAddress,
    tokenAccount: row.tokenAccount,
    totalDeposited: row.totalDeposited,
    totalWithdrawn: row.totalWithdrawn,
    status: row.status,
    createdAt: row.chainCreatedAt?.toISOString() ?? null,
    slot: row.slot,
    updatedAt: row.updatedAt.toISOString(),
    source,
  };
}
