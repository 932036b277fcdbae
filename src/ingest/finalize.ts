/** The finalization pass: confirmed program transactions become finalized once the cluster says so. */
import { and, asc, eq, inArray } from "drizzle-orm";
import { chainTransactions, transactions } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import type { Services } from "../platform/services.ts";
import { type OwnerEvent, transactionFinalized } from "../realtime/events.ts";
import { landingMoves } from "../vault/requests.ts";
import { publishAll } from "./notify.ts";

interface SignatureStatus {
  confirmationStatus: "processed" | "confirmed" | "finalized" | null;
  err: unknown;
}

/**
 * Marks up to `limit` (≤ 256, one getSignatureStatuses call) of the oldest confirmed transactions finalized when
 * the cluster has finalized them, moves their history rows (requests included) to `finalized`, and pushes
 * `transaction_finalized` to each row's owner. Returns how many transactions were finalized.
 */
export async function finalizePass(env: Bindings, services: Services, limit = 256): Promise<number> {
  const { db } = services.db();
  const pending = await db
    .select({ signature: chainTransactions.signature })
    .from(chainTransactions)
    .where(eq(chainTransactions.commitment, "confirmed"))
    .orderBy(asc(chainTransactions.slot))
    .limit(Math.min(limit, 256));
  if (pending.length === 0) return 0;
  const signatures = pending.map((p) => p.signature);
  const { value } = await services.rpc.call<{ value: (SignatureStatus | null)[] }>("getSignatureStatuses", [
    signatures,
    { searchTransactionHistory: true },
  ]);
  const finalized = signatures.filter((_s, i) => value[i]?.confirmationStatus === "finalized" && !value[i]?.err);
  if (finalized.length === 0) return 0;
  const rows = await db.transaction(async (tx) => {
    const moved = await tx
      .update(chainTransactions)
      .set({ commitment: "finalized" })
      .where(and(inArray(chainTransactions.signature, finalized), eq(chainTransactions.commitment, "confirmed")))
      .returning({ signature: chainTransactions.signature });
    if (moved.length === 0) return [];
    const sigs = moved.map((m) => m.signature);
    await tx
      .update(transactions)
      .set({ status: "finalized", updatedAt: new Date() })
      // The state machine's rule (request-state.ts): confirmed → finalized, and any unlanded guess is overruled.
      .where(and(inArray(transactions.signature, sigs), landingMoves("finalized")));
    return tx
      .select()
      .from(transactions)
      .where(and(inArray(transactions.signature, sigs), eq(transactions.status, "finalized")))
      .orderBy(asc(transactions.slot), asc(transactions.eventIndex));
  });
  const byOwner = new Map<string, OwnerEvent[]>();
  for (const r of rows) {
    const list = byOwner.get(r.vaultOwner) ?? [];
    list.push(transactionFinalized(r));
    byOwner.set(r.vaultOwner, list);
  }
  await publishAll(env, services, byOwner);
  return new Set(rows.map((r) => r.signature)).size;
}
