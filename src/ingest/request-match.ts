/** Matching landed transactions to the requests they carry out, inside ingestion's batch transaction. */
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { TransactionProgramError } from "../chain/program/index.ts";
import type { Database } from "../db/client.ts";
import { transactions } from "../db/schema.ts";
import { pickRequest } from "../vault/intent.ts";
import { landingMoves } from "../vault/requests.ts";
import type { DecodedTx, HistoryRow } from "./decode.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type RequestRow = typeof transactions.$inferSelect;

/**
 * The requests the batch's transactions may carry out, in one statement: those already bound to one of their
 * signatures (relayed), and unbound ones with one of their intents or exact messages.
 */
export async function candidateRequests(tx: Tx, fresh: DecodedTx[], intents: Map<string, string | null>) {
  if (fresh.length === 0) return [];
  const signatures = fresh.map((d) => d.tx.signature);
  const wanted = [...new Set(fresh.map((d) => intents.get(d.tx.signature)).filter((i): i is string => !!i))];
  const hashes = [...new Set(fresh.map((d) => d.tx.messageHash))];
  const unbound = and(
    isNull(transactions.signature),
    isNull(transactions.slot),
    or(
      inArray(transactions.messageHash, hashes),
      ...(wanted.length > 0 ? [inArray(transactions.intentHash, wanted)] : []),
    ),
  );
  return tx
    .select()
    .from(transactions)
    .where(and(sql`${transactions.origin} <> 'chain'`, or(inArray(transactions.signature, signatures), unbound)));
}

/**
 * The one request a landed transaction carries out: the request bound to its signature (the relay sent it), else
 * the unbound request with its intent chosen by intent.ts `pickRequest` (a wallet may have added compute-budget or
 * Lighthouse instructions, re-priced, or sent it itself). A request is taken by at most one transaction.
 */
export function requestOf(
  d: DecodedTx,
  intent: string | null,
  requests: RequestRow[],
  taken: Set<string>,
): RequestRow | null {
  const { signature, messageHash } = d.tx;
  const bound = requests.find((r) => r.signature === signature);
  const chosen =
    bound ??
    pickRequest(
      requests.filter(
        (r) =>
          r.signature === null &&
          !taken.has(r.id) &&
          (r.messageHash === messageHash || (intent !== null && r.intentHash === intent)),
      ),
      d.tx,
    );
  if (chosen) taken.add(chosen.id);
  return chosen;
}

/**
 * Binds a request to its landed transaction: signature, slot, the event's figures, and `confirmed` when the state
 * machine lets a landing move it (the chain overrules an earlier guess such as `expired`). A client's report of
 * this very signature becomes `verified`.
 */
export async function bindLanded(tx: Tx, id: string, d: DecodedTx, row: HistoryRow | null): Promise<void> {
  await tx
    .update(transactions)
    .set({
      signature: d.tx.signature,
      slot: d.tx.slot,
      blockTime: d.tx.blockTime,
      ...(row
        ? { eventIndex: row.eventIndex, amount: row.amount, counterparty: row.counterparty, reason: row.reason }
        : {}),
      status: sql`case when ${landingMoves("confirmed")} then 'confirmed' else ${transactions.status} end`,
      ...verifiedClaim(d.tx.signature),
      updatedAt: new Date(),
    })
    .where(eq(transactions.id, id));
}

/** A reported signature settles with the binding: verified when it is the bound one, else rejected (and why). */
function verifiedClaim(signature: string) {
  const other = sql`${transactions.claimStatus} = 'unverified' and ${transactions.claimedSignature} <> ${signature}`;
  return {
    claimStatus: sql`case when ${transactions.claimedSignature} = ${signature} then 'verified' when ${other} then 'rejected' else ${transactions.claimStatus} end`,
    claimReason: sql`case when ${other} then ${`The request was carried out by another transaction, ${signature}`} else ${transactions.claimReason} end`,
  };
}

/** Binds a request to its landed, failed transaction: `failed` with the program error (the state machine's rule). */
export async function bindFailed(
  tx: Tx,
  id: string,
  d: DecodedTx,
  error: Pick<TransactionProgramError, "code" | "name" | "message">,
): Promise<void> {
  await tx
    .update(transactions)
    .set({
      signature: d.tx.signature,
      slot: d.tx.slot,
      blockTime: d.tx.blockTime,
      status: sql`case when ${landingMoves("failed")} then 'failed' else ${transactions.status} end`,
      errorCode: error.code ?? null,
      errorName: error.name,
      errorMessage: error.message,
      ...verifiedClaim(d.tx.signature),
      updatedAt: new Date(),
    })
    .where(eq(transactions.id, id));
}
