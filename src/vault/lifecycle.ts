/**
 * Following a request on the chain between ingestion passes: its own transaction's status, the check of a
 * signature a client reported, and expiry from the transaction's own blockhash. Used by GET /transactions/:id
 * (read-through) and by the owner hub's tracker; every move goes through the state machine (request-state.ts).
 */
import { and, eq } from "drizzle-orm";
import { toChainTx } from "../chain/chain-tx.ts";
import { programErrorFromTransaction } from "../chain/program/index.ts";
import type { RpcRequest } from "../chain/rpc.ts";
import { chainTransactions, transactions } from "../db/schema.ts";
import type { Services } from "../platform/services.ts";
import { intentHash } from "./intent.ts";
import { applyRequestEvent, findRequest, findRequestBySignature, hasLanded, type TransactionRow } from "./requests.ts";

interface SignatureStatus {
  slot: number;
  confirmations: number | null;
  err: unknown;
  confirmationStatus: "processed" | "confirmed" | "finalized" | null;
}

export interface RefreshOptions {
  /** Asks the Ingestor to run soon (a reported signature that matches is bound by ingestion, see verifyClaim). */
  kickIngestor?: () => Promise<void>;
}

/** Whether a row has anything left to learn from the chain (otherwise it is served as stored). */
export function needsRefresh(row: TransactionRow): boolean {
  if (row.origin === "chain" || row.status === "finalized") return false;
  if (hasLanded(row)) return row.status === "confirmed";
  if (row.signature || row.claimStatus === "unverified") return true;
  return row.status === "pending" || row.status === "submitted";
}

/**
 * Brings a request up to date with the chain, in one JSON-RPC batch: the status of its bound transaction (or of the
 * signature a client reported) and whether its blockhash can still land. A landing overrules an earlier guess
 * (expired → confirmed); expiry comes from the transaction's own blockhash — its last valid block height when the
 * backend handed it out, `isBlockhashValid` otherwise — so every request ends. Returns the row as stored afterwards.
 */
export async function refreshRequestStatus(
  services: Services,
  row: TransactionRow,
  opts: RefreshOptions = {},
): Promise<TransactionRow> {
  if (!needsRefresh(row)) return row;
  const signature = row.signature ?? (row.claimStatus === "unverified" ? row.claimedSignature : null);
  const expirable = !hasLanded(row) && (row.status === "pending" || row.status === "submitted");
  const probe = expirable ? expiryProbe(row) : null;
  const calls: RpcRequest[] = [];
  if (signature) {
    calls.push({ method: "getSignatureStatuses", params: [[signature], { searchTransactionHistory: true }] });
  }
  if (probe) calls.push(probe.call);
  if (calls.length === 0) return row;
  const values = (await services.rpc.batch(calls)).map((reply) => {
    if (!reply.ok) throw reply.error;
    return reply.value;
  });
  const status = signature ? (values[0] as { value: (SignatureStatus | null)[] }).value[0] : null;
  if (signature && status && landedOutcome(status)) {
    return row.signature ? applyLanding(services, row, status) : verifyClaim(services, row, signature, opts);
  }
  if (probe?.expired(values[values.length - 1])) {
    return (await applyRequestEvent(services.db().db, row, { kind: "expired" })) ?? row;
  }
  return row;
}

/** The RPC call that tells whether the row's blockhash can no longer land, and how to read its answer. */
function expiryProbe(row: TransactionRow): { call: RpcRequest; expired: (value: unknown) => boolean } | null {
  const lastValid = row.lastValidBlockHeight;
  if (lastValid !== null) {
    return {
      call: { method: "getBlockHeight", params: [{ commitment: "confirmed" }] },
      expired: (height) => BigInt(height as number) > lastValid,
    };
  }
  // A blockhash the backend did not hand out (a wallet replaced it, or the client built the transaction): its last
  // valid height is unknown, but the node still knows whether it is valid. Asked at `processed`, so a blockhash
  // newer than the confirmed view is not taken for an expired one.
  if (!row.blockhash) return null;
  return {
    call: { method: "isBlockhashValid", params: [row.blockhash, { commitment: "processed" }] },
    expired: (answer) => (answer as { value: boolean }).value === false,
  };
}

function landedOutcome(s: SignatureStatus): "confirmed" | "finalized" | "failed" | null {
  if (s.confirmationStatus !== "confirmed" && s.confirmationStatus !== "finalized") return null;
  if (s.err) return "failed";
  return s.confirmationStatus;
}

/** The request's own (bound) transaction landed: confirmed / finalized, or failed with the program error. */
async function applyLanding(services: Services, row: TransactionRow, status: SignatureStatus) {
  const { db } = services.db();
  const slot = BigInt(status.slot);
  const outcome = landedOutcome(status)!;
  if (outcome !== "failed") {
    return (await applyRequestEvent(db, row, { kind: "landed", outcome }, { slot })) ?? (await reread(services, row));
  }
  const tx = await services.rpc
    .call<{ meta: { logMessages: string[] | null } } | null>("getTransaction", [
      row.signature,
      { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" },
    ])
    .catch(() => null);
  const failure = programErrorFromTransaction(status.err, tx?.meta.logMessages ?? []);
  const moved = await applyRequestEvent(
    db,
    row,
    { kind: "landed", outcome: "failed" },
    {
      slot,
      errorCode: failure?.code ?? null,
      errorName: failure?.name ?? "TransactionError",
      errorMessage: failure?.message ?? JSON.stringify(status.err),
    },
  );
  return moved ?? (await reread(services, row));
}

async function reread(services: Services, row: TransactionRow): Promise<TransactionRow> {
  return (await findRequest(services.db().db, row.id)) ?? row;
}

/**
 * A signature a client reported landed: is it this request's transaction? Ingestion decides which request a
 * landed transaction is (intent.ts, one rule everywhere), so a claim is bound only by ingestion; here a claim is
 * rejected as soon as the chain disproves it — another request owns the signature, the transaction was recorded
 * without this request, or it runs different vault instructions — and a matching one hurries ingestion along.
 * A rejection records why and leaves the request's status alone.
 */
async function verifyClaim(
  services: Services,
  row: TransactionRow,
  signature: string,
  opts: RefreshOptions,
): Promise<TransactionRow> {
  const { db } = services.db();
  const owner = await findRequestBySignature(db, signature);
  if (owner?.id === row.id) return owner;
  if (owner) return rejectClaim(services, row, signature, `The transaction belongs to request ${owner.id}`);
  const [ingested] = await db
    .select({ signature: chainTransactions.signature })
    .from(chainTransactions)
    .where(eq(chainTransactions.signature, signature))
    .limit(1);
  if (ingested) {
    // Ingestion may have bound it to this very request between the two reads.
    const now = await findRequestBySignature(db, signature);
    if (now?.id === row.id) return now;
    return rejectClaim(services, row, signature, "The transaction was already recorded, and not as this request");
  }
  const raw = await services.rpc.call<Parameters<typeof toChainTx>[1] | null>("getTransaction", [
    signature,
    { encoding: "base64", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
  ]);
  if (!raw) return row;
  const tx = await toChainTx(signature, raw);
  const intent = await intentHash(
    tx.instructions.filter((ix) => !ix.inner),
    services.config.programId,
  );
  const same = row.intentHash ? intent === row.intentHash : tx.messageHash === row.messageHash;
  if (!same) {
    return rejectClaim(
      services,
      row,
      signature,
      "The transaction does not carry out this request: its vault instructions (operation, accounts or amount) differ",
    );
  }
  await opts.kickIngestor?.().catch((err) => services.log.warn("could not kick the ingestor", { error: err }));
  return row;
}

async function rejectClaim(services: Services, row: TransactionRow, signature: string, reason: string) {
  const { db } = services.db();
  services.log.info("reported signature rejected", { transactionId: row.id, signature, reason });
  const [updated] = await db
    .update(transactions)
    .set({ claimStatus: "rejected", claimReason: reason, updatedAt: new Date() })
    .where(
      and(
        eq(transactions.id, row.id),
        eq(transactions.claimedSignature, signature),
        eq(transactions.claimStatus, "unverified"),
      ),
    )
    .returning();
  return updated ?? (await reread(services, row));
}

/** The public view of a request row. */
export function requestView(row: TransactionRow) {
  return {
    transactionId: row.id,
    type: row.transactionType,
    status: row.status,
    owner: row.vaultOwner,
    amount: row.amount,
    signature: row.signature,
    slot: row.slot,
    blockTime: row.blockTime?.toISOString() ?? null,
    messageHash: row.messageHash,
    lastValidBlockHeight: row.lastValidBlockHeight,
    counterparty: row.counterparty,
    reason: row.reason,
    /** The exchange's position label of a privileged lock/unlock the backend built; null otherwise. */
    positionId: row.positionId,
    error: row.status === "failed" ? { code: row.errorCode, name: row.errorName, message: row.errorMessage } : null,
    /** The signature a client reported, while or after the chain checks it: unverified, verified or rejected (why). */
    reportedSignature: row.claimedSignature
      ? { signature: row.claimedSignature, status: row.claimStatus, reason: row.claimReason }
      : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
