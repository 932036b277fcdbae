/** Request rows in `transactions`: recording builds, finding requests, and moving them by the state machine. */
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import { and, eq, inArray, isNull, or, type SQL, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import { nextStatus, type RequestEvent, type RequestStatus, statusesMovedByLanding } from "../db/request-state.ts";
import { auditLog, type TransactionType, transactions } from "../db/schema.ts";
import type { AssembledTransaction } from "./assemble.ts";
import { intentHash } from "./intent.ts";
import type { PlannedOperation } from "./user-operations.ts";

/** The response of every build endpoint. */
export interface BuildResponse {
  transactionId: string;
  /** "pending" for a new request; an identical request built moments earlier keeps its own status. */
  status: string;
  unsignedTransaction: string;
  message: string;
  type: string;
  owner: string;
  amount: bigint | null;
  vaultAddress: string;
  feePayer: string;
  recentBlockhash: string;
  lastValidBlockHeight: bigint;
  computeUnitLimit: number;
  computeUnitPrice: bigint;
  estimatedFeeLamports: bigint;
  messageHash: string;
  instructions: string[];
  /** Privileged lock/unlock only: the position label stored with the request. */
  positionId?: string | null;
}

export type TransactionRow = typeof transactions.$inferSelect;

/** Who asked for a privileged build, recorded with it (the audit trail of GET /monitor/audit). */
export interface BuildAudit {
  apiKeyName: string;
  action: string;
  requestId: string | null;
}

/** The intent hash of planned instructions (what a transaction must run to carry out the request). */
export function plannedIntent(programId: PublicKey, ixs: TransactionInstruction[]) {
  return intentHash(
    ixs.map((ix) => ({ programId: ix.programId, accounts: ix.keys.map((k) => k.pubkey), data: ix.data })),
    programId,
  );
}

/**
 * Stores the request as a pending `transactions` row (and, for a privileged build, its audit entry in the same
 * database transaction) and shapes the response.
 */
export async function recordBuiltRequest(
  db: Database,
  plan: PlannedOperation,
  built: AssembledTransaction,
  programId: PublicKey,
  audit?: BuildAudit,
): Promise<BuildResponse> {
  const intent = await plannedIntent(programId, plan.instructions);
  const record = async (tx: Queryable) => {
    const inserted = await tx
      .insert(transactions)
      .values({
        vaultOwner: plan.owner.toBase58(),
        transactionType: plan.type,
        amount: plan.amount,
        status: "pending",
        origin: "build",
        messageHash: built.messageHash,
        intentHash: intent,
        blockhash: built.recentBlockhash,
        lastValidBlockHeight: built.lastValidBlockHeight,
        apiKeyName: audit?.apiKeyName ?? null,
        positionId: plan.positionId ?? null,
        details: { feePayer: plan.feePayer.toBase58(), steps: plan.steps },
      })
      .onConflictDoNothing({
        target: [transactions.messageHash, transactions.transactionType],
        where: sql`message_hash is not null`,
      })
      .returning({ id: transactions.id, status: transactions.status, positionId: transactions.positionId });
    // The same operation built twice within one blockhash is the same message, hence the same transaction (it can
    // land only once): both callers get the one request that stands for it.
    const found =
      inserted[0] ??
      (
        await tx
          .select({ id: transactions.id, status: transactions.status, positionId: transactions.positionId })
          .from(transactions)
          .where(and(eq(transactions.messageHash, built.messageHash), eq(transactions.transactionType, plan.type)))
          .limit(1)
      )[0]!;
    if (audit) {
      await tx.insert(auditLog).values({
        apiKeyName: audit.apiKeyName,
        action: audit.action,
        outcome: "ok",
        transactionId: found.id,
        requestId: audit.requestId,
        details: auditDetails(plan),
      });
    }
    return found;
  };
  // A public build is one statement (two when it repeats an identical build): no transaction round trips for it.
  const row = audit ? await db.transaction(record) : await record(db);
  return {
    transactionId: row.id,
    status: row.status,
    unsignedTransaction: built.unsignedTransaction,
    message: "Sign and submit this transaction",
    type: plan.type,
    owner: plan.owner.toBase58(),
    amount: plan.amount,
    vaultAddress: plan.vaultAddress.toBase58(),
    feePayer: plan.feePayer.toBase58(),
    recentBlockhash: built.recentBlockhash,
    lastValidBlockHeight: built.lastValidBlockHeight,
    computeUnitLimit: built.computeUnitLimit,
    computeUnitPrice: built.computeUnitPrice,
    estimatedFeeLamports: built.estimatedFeeLamports,
    messageHash: built.messageHash,
    instructions: plan.steps,
    // The label stored with the request: an identical build moments earlier (the same message) keeps its own.
    ...(plan.positionId !== undefined ? { positionId: row.positionId ?? null } : {}),
  };
}

/** What the audit trail keeps about a build: the operation's parties and amount (all public on chain anyway). */
function auditDetails(plan: PlannedOperation): Record<string, unknown> {
  return {
    type: plan.type,
    owner: plan.owner.toBase58(),
    amount: plan.amount?.toString() ?? null,
    signer: plan.feePayer.toBase58(),
    steps: plan.steps,
    ...(plan.positionId ? { positionId: plan.positionId } : {}),
  };
}

/** The request row with this id, or null. */
export async function findRequest(db: Queryable, id: string): Promise<TransactionRow | null> {
  const [row] = await db.select().from(transactions).where(eq(transactions.id, id)).limit(1);
  return row ?? null;
}

/** The request (not an ingested event row) bound to this signature, or null: a signature has at most one. */
export async function findRequestBySignature(db: Queryable, signature: string): Promise<TransactionRow | null> {
  const [row] = await db
    .select()
    .from(transactions)
    .where(and(eq(transactions.signature, signature), sql`${transactions.origin} <> 'chain'`))
    .limit(1);
  return row ?? null;
}

/**
 * Requests not bound to any transaction yet whose intent (or exact message) is one of these: what a transaction
 * with that intent may turn out to carry out (see intent.ts `pickRequest`).
 */
export async function unboundRequests(
  db: Queryable,
  match: { intents: string[]; messageHashes: string[] },
): Promise<TransactionRow[]> {
  const by: SQL[] = [];
  if (match.intents.length > 0) by.push(inArray(transactions.intentHash, [...new Set(match.intents)]));
  if (match.messageHashes.length > 0) by.push(inArray(transactions.messageHash, [...new Set(match.messageHashes)]));
  if (by.length === 0) return [];
  return db
    .select()
    .from(transactions)
    .where(
      and(isNull(transactions.signature), isNull(transactions.slot), sql`${transactions.origin} <> 'chain'`, or(...by)),
    );
}

/** True when the row's transaction landed (a landed row always has its slot). */
export function hasLanded(row: Pick<TransactionRow, "slot">): boolean {
  return row.slot !== null;
}

/**
 * SQL for "a landing with `outcome` moves this row" (request-state.ts `nextStatus`, for set-based UPDATEs): an
 * unlanded row in a status the landing overrules, or a confirmed row becoming finalized.
 */
export function landingMoves(outcome: "confirmed" | "finalized" | "failed"): SQL {
  const overruled = statusesMovedByLanding(outcome) as RequestStatus[];
  const unlanded = and(isNull(transactions.slot), inArray(transactions.status, overruled))!;
  return outcome === "finalized" ? or(unlanded, eq(transactions.status, "confirmed"))! : unlanded;
}

type MutableFields = Partial<
  Pick<
    TransactionRow,
    | "signature"
    | "slot"
    | "blockTime"
    | "errorCode"
    | "errorName"
    | "errorMessage"
    | "blockhash"
    | "lastValidBlockHeight"
    | "claimStatus"
    | "claimReason"
  >
>;

/**
 * Applies an event to a request through the state machine: the row moves only when `nextStatus` allows it from
 * the state it was read in (an optimistic UPDATE: a concurrent change wins, and this one is dropped). Returns the
 * row as stored afterwards, or null when nothing moved.
 */
export async function applyRequestEvent(
  db: Database,
  row: TransactionRow,
  event: RequestEvent,
  fields: MutableFields = {},
): Promise<TransactionRow | null> {
  const next = nextStatus({ status: row.status, landed: hasLanded(row) }, event);
  if (next === null) return null;
  const [updated] = await db
    .update(transactions)
    .set({ status: next, ...fields, updatedAt: new Date() })
    .where(
      and(
        eq(transactions.id, row.id),
        eq(transactions.status, row.status),
        row.slot === null ? isNull(transactions.slot) : eq(transactions.slot, row.slot),
      ),
    )
    .returning();
  return updated ?? null;
}

/** Records a privileged build refused with `code` (the audit trail keeps refusals too). */
export async function recordRefusedBuild(
  db: Database,
  audit: BuildAudit,
  code: string,
  details: Record<string, unknown>,
): Promise<void> {
  await db.insert(auditLog).values({
    apiKeyName: audit.apiKeyName,
    action: audit.action,
    outcome: code,
    requestId: audit.requestId,
    details,
  });
}

/** The public types a privileged builder makes (lock, unlock, transfer, admin): hidden from history until they land. */
export const PRIVILEGED_TYPES: readonly TransactionType[] = [
  "lock",
  "unlock",
  "transfer_out",
  "initialize_authority",
  "add_authorized_program",
  "remove_authorized_program",
  "set_paused",
];
