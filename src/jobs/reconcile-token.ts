import { and, desc, eq, inArray, ne } from "drizzle-orm";
import type { TokenAccount } from "../chain/accounts.ts";
import type { CollateralVault } from "../chain/program/index.ts";
import { alerts, reconciliationLogs } from "../db/schema.ts";
import { raiseAlert } from "../platform/alerts.ts";
import type { Services } from "../platform/services.ts";
import type { BatchFigures } from "./reconcile-batch.ts";

/** The field logged when a vault's token account does not hold what the vault records. */
export const TOKEN_FIELD = "token_account_amount";

export interface TokenCheck {
  owner: string;
  vault: CollateralVault;
  /** Null when the vault's token account is missing or not a token account (its amount counts as 0). */
  token: TokenAccount | null;
}

const alertKey = (owner: string) => `token_mismatch:${owner}`;

/**
 * Compares each vault's recorded total with its token account's real amount (tokens sent straight to the ATA,
 * bugs §8.2). The cache cannot fix that, so it is logged (expected = recorded total, actual = token amount,
 * repaired = false) once per distinct figure pair, alerted above the threshold, and the alert resolved once the
 * two agree again.
 */
export async function checkTokenAccounts(
  services: Services,
  checks: TokenCheck[],
  slot: number,
  figures: BatchFigures,
): Promise<void> {
  if (checks.length === 0) return;
  const { db } = services.db();
  const withAmount = checks.map((c) => ({ ...c, amount: c.token?.amount ?? 0n }));
  const mismatched = withAmount.filter((c) => c.amount !== c.vault.totalBalance);
  const agreeing = withAmount.filter((c) => c.amount === c.vault.totalBalance).map((c) => alertKey(c.owner));
  if (agreeing.length > 0) {
    await db
      .update(alerts)
      .set({ status: "resolved", resolvedAt: new Date() })
      .where(and(inArray(alerts.dedupKey, agreeing), ne(alerts.status, "resolved")));
  }
  if (mismatched.length === 0) return;
  figures.tokenMismatches += mismatched.length;
  const previous = await db
    .selectDistinctOn([reconciliationLogs.owner], {
      owner: reconciliationLogs.owner,
      expected: reconciliationLogs.expected,
      actual: reconciliationLogs.actual,
    })
    .from(reconciliationLogs)
    .where(
      and(
        eq(reconciliationLogs.field, TOKEN_FIELD),
        inArray(
          reconciliationLogs.owner,
          mismatched.map((c) => c.owner),
        ),
      ),
    )
    .orderBy(reconciliationLogs.owner, desc(reconciliationLogs.createdAt), desc(reconciliationLogs.id));
  const last = new Map(previous.map((p) => [p.owner, p]));
  const fresh = mismatched.filter((c) => {
    const p = last.get(c.owner);
    return !p || p.expected !== c.vault.totalBalance || p.actual !== c.amount;
  });
  if (fresh.length === 0) return;
  await db.insert(reconciliationLogs).values(
    fresh.map((c) => ({
      owner: c.owner,
      field: TOKEN_FIELD,
      expected: c.vault.totalBalance,
      actual: c.amount,
      difference: c.vault.totalBalance - c.amount,
      slot: BigInt(slot),
      repaired: false,
    })),
  );
  figures.differences += fresh.length;
  await alertTokenMismatches(services, fresh, slot, figures);
}

async function alertTokenMismatches(
  services: Services,
  fresh: (TokenCheck & { amount: bigint })[],
  slot: number,
  figures: BatchFigures,
): Promise<void> {
  const threshold = services.config.reconciliationAlertThreshold * 1_000_000n;
  for (const c of fresh) {
    const diff = c.vault.totalBalance - c.amount;
    if ((diff < 0n ? -diff : diff) <= threshold) continue;
    const id = await raiseAlert(services.db().db, {
      kind: "token_balance_mismatch",
      severity: "warning",
      owner: c.owner,
      dedupKey: alertKey(c.owner),
      message: `Vault of ${c.owner} records ${c.vault.totalBalance} but its token account holds ${c.amount} (slot ${slot})`,
      details: { slot, recordedTotal: `${c.vault.totalBalance}`, tokenAmount: `${c.amount}`, difference: `${diff}` },
    });
    if (id !== null) figures.alerts++;
  }
}
