import { and, eq, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import { type TransactionStatus, transactions } from "../db/schema.ts";
import type { AssembledTransaction } from "./assemble.ts";
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
}

/** Stores the request as a pending `transactions` row and shapes the response. */
export async function recordBuiltRequest(
  db: Database,
  plan: PlannedOperation,
  built: AssembledTransaction,
  details: Record<string, unknown> = {},
): Promise<BuildResponse> {
  const inserted = await db
    .insert(transactions)
    .values({
      vaultOwner: plan.owner.toBase58(),
      transactionType: plan.type,
      amount: plan.amount,
      status: "pending",
      messageHash: built.messageHash,
      blockhash: built.recentBlockhash,
      lastValidBlockHeight: built.lastValidBlockHeight,
      details: { feePayer: plan.feePayer.toBase58(), steps: plan.steps, ...details },
    })
    .onConflictDoNothing({
      target: [transactions.messageHash, transactions.transactionType],
      where: sql`message_hash is not null`,
    })
    .returning({ id: transactions.id, status: transactions.status });
  // The same operation built twice within one blockhash is the same message, hence the same transaction (it can
  // land only once): both callers get the one request that stands for it.
  const row =
    inserted[0] ??
    (await findRequestsByMessageHash(db, built.messageHash)).find((r) => r.transactionType === plan.type);
  return {
    transactionId: row!.id,
    status: row!.status,
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
  };
}

export type TransactionRow = typeof transactions.$inferSelect;

/** The request row with this id, or null. */
export async function findRequest(db: Queryable, id: string): Promise<TransactionRow | null> {
  const [row] = await db.select().from(transactions).where(eq(transactions.id, id)).limit(1);
  return row ?? null;
}

/** The request rows built with this message (one per type; a message normally builds one request). */
export async function findRequestsByMessageHash(db: Database, hash: string): Promise<TransactionRow[]> {
  return db.select().from(transactions).where(eq(transactions.messageHash, hash));
}

/** Moves a request forward; never backwards (finalized/failed/expired are terminal). */
export async function updateRequestStatus(
  db: Database,
  id: string,
  status: TransactionStatus,
  fields: Partial<
    Pick<
      TransactionRow,
      "signature" | "slot" | "blockTime" | "errorCode" | "errorName" | "errorMessage" | "messageHash"
    >
  > = {},
): Promise<void> {
  const allowedFrom: Record<TransactionStatus, TransactionStatus[]> = {
    pending: ["pending"],
    submitted: ["pending", "submitted"],
    confirmed: ["pending", "submitted", "confirmed"],
    finalized: ["pending", "submitted", "confirmed", "finalized"],
    failed: ["pending", "submitted", "confirmed"],
    expired: ["pending", "submitted"],
  };
  const current = await findRequest(db, id);
  if (!current || !allowedFrom[status].includes(current.status as TransactionStatus)) return;
  await db
    .update(transactions)
    .set({ status, ...fields, updatedAt: new Date() })
    .where(and(eq(transactions.id, id), eq(transactions.status, current.status)));
}
