/** Matching landed transactions to the requests they carry out, inside ingestion's batch transaction. */
import { and, inArray, isNull, or, type SQL, sql } from "drizzle-orm";
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

/** A landed transaction to bind to its request (a batch's binds are written in one statement each kind). */
export interface LandedBind {
  id: string;
  d: DecodedTx;
  row: HistoryRow | null;
}

export interface FailedBind {
  id: string;
  d: DecodedTx;
  error: Pick<TransactionProgramError, "code" | "name" | "message">;
}

/**
 * Binds each request to its landed transaction, the whole batch in one UPDATE: signature, slot, the event's figures,
 * and `confirmed` when the state machine lets a landing move it (the chain overrules an earlier guess such as
 * `expired`). A client's report of this very signature becomes `verified`, another one `rejected` with the reason.
 */
export async function bindLanded(tx: Tx, binds: LandedBind[]): Promise<void> {
  await updateBound(
    tx,
    binds.map(
      ({ id, d, row }) =>
        sql`${landing(id, d)}, ${row !== null}::boolean, ${row?.eventIndex ?? null}::integer, ${row?.amount?.toString() ?? null}::numeric, ${row?.counterparty ?? null}::varchar, ${row?.reason ?? null}::varchar`,
    ),
    "has_row, event_index, amount, counterparty, reason",
    sql`event_index = case when v.has_row then v.event_index else ${transactions.eventIndex} end,
      amount = case when v.has_row then v.amount else ${transactions.amount} end,
      counterparty = case when v.has_row then v.counterparty else ${transactions.counterparty} end,
      reason = case when v.has_row then v.reason else ${transactions.reason} end,
      status = case when ${landingMoves("confirmed")} then 'confirmed' else ${transactions.status} end`,
  );
}

/** Binds each request to its landed, failed transaction: `failed` with the program error (one UPDATE per batch). */
export async function bindFailed(tx: Tx, binds: FailedBind[]): Promise<void> {
  await updateBound(
    tx,
    binds.map(
      ({ id, d, error }) =>
        sql`${landing(id, d)}, ${error.code ?? null}::integer, ${error.name}::varchar, ${error.message}::text`,
    ),
    "error_code, error_name, error_message",
    sql`status = case when ${landingMoves("failed")} then 'failed' else ${transactions.status} end,
      error_code = v.error_code,
      error_name = v.error_name,
      error_message = v.error_message`,
  );
}

/** The values every binding starts with: the request and where its transaction landed. */
function landing(id: string, d: DecodedTx) {
  return sql`${id}::uuid, ${d.tx.signature}::varchar, ${d.tx.slot}::bigint, ${d.tx.blockTime?.toISOString() ?? null}::timestamptz`;
}

/**
 * One UPDATE for a batch of bindings: each row of `values` starts with `landing(…)` and goes on with `columns`
 * (fixed names, never input); `set` assigns from them. Signature, slot, block time, the claim and `updated_at`
 * are set the same way for every kind of binding.
 */
async function updateBound(tx: Tx, values: SQL[], columns: string, set: SQL): Promise<void> {
  if (values.length === 0) return;
  await tx.execute(sql`
    update ${transactions} set
      signature = v.signature,
      slot = v.slot,
      block_time = v.block_time,
      ${set},
      ${claimSettled()},
      updated_at = now()
    from (values ${sql.join(
      values.map((v) => sql`(${v})`),
      sql`, `,
    )}) as v(id, signature, slot, block_time, ${sql.raw(columns)})
    where ${transactions.id} = v.id`);
}

/** A reported signature settles with the binding: verified when it is the bound one, else rejected (and why). */
function claimSettled() {
  const other = sql`${transactions.claimStatus} = 'unverified' and ${transactions.claimedSignature} <> v.signature`;
  return sql`claim_status = case when ${transactions.claimedSignature} = v.signature then 'verified' when ${other} then 'rejected' else ${transactions.claimStatus} end,
      claim_reason = case when ${other} then 'The request was carried out by another transaction, ' || v.signature else ${transactions.claimReason} end`;
}
