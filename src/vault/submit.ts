/**
 * POST /vault/submit: relay a signed transaction, or register the signature of one a wallet sent itself. A request
 * follows only its own transaction: a signed transaction is attached to a request only when it carries out exactly
 * that request (same intent, intent.ts), and a bare signature only once the chain shows it is that request's.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { toBase64 } from "../chain/accounts.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { SENDABLE_STATUSES } from "../db/request-state.ts";
import { transactions } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { AppError } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { ownerHub } from "../platform/stubs.ts";
import { simulationFailure } from "./fees.ts";
import { pickRequest } from "./intent.ts";
import { requestView } from "./lifecycle.ts";
import type { TrackedRequest } from "./relay.ts";
import { decodeSignedTransaction, sendAccepted } from "./relay.ts";
import {
  type ChainState,
  checkChainState,
  checkStructure,
  type RelayCandidate,
  requestOwner,
  simulateWithState,
} from "./relay-policy.ts";
import {
  applyRequestEvent,
  findRequest,
  findRequestBySignature,
  hasLanded,
  type TransactionRow,
  unboundRequests,
} from "./requests.ts";

/**
 * Relays a signed transaction: decode and check it (relay-policy.ts), find the request it carries out, simulate it
 * together with the chain state the policy needs, send it, and only then record it (bound to its request, or as a
 * new request for a vault transaction built elsewhere) and hand it to the owner's hub for rebroadcast. Any refusal
 * happens before anything is written.
 */
export async function relaySigned(
  env: Bindings,
  services: Services,
  signedTransaction: string,
  transactionId?: string,
) {
  const { config } = services;
  const candidate = checkStructure(
    await decodeSignedTransaction(signedTransaction, config.programId),
    config.programId,
  );
  const { db } = services.db();
  // A retry of a relay already accepted: answer where it is, send nothing twice.
  const bound = await findRequestBySignature(db, candidate.signature);
  if (bound) {
    if (transactionId && bound.id !== transactionId) throw belongsElsewhere(bound.id);
    return requestView(bound);
  }
  const given = transactionId ? await requestToCarryOut(services, transactionId, candidate) : null;
  const state = await simulateWithState(services, candidate);
  checkChainState(candidate, state, config.allowUnlistedAuthorities);
  if (state.simulation.err === "BlockhashNotFound") {
    throw new AppError("BLOCKHASH_EXPIRED", "The transaction's blockhash has expired; build and sign a new one");
  }
  if (state.simulation.err) throw simulationFailure(state.simulation.err, state.simulation.logs);
  const target = given ?? (await matchOpenRequest(services, candidate));
  await sendAccepted(services, candidate.wire);
  const row = target ? await bindRelayed(services, target, candidate) : await insertRelayed(services, candidate, state);
  await trackInHub(env, services, row.vaultOwner, {
    transactionId: row.id,
    wire: toBase64(candidate.wire),
    lastSentAt: Date.now(),
    trackedSince: Date.now(),
  });
  return requestView(row);
}

/** The request named by `transactionId`, refused unless the signed transaction carries it out exactly. */
async function requestToCarryOut(services: Services, id: string, tx: RelayCandidate): Promise<TransactionRow> {
  const row = await findRequest(services.db().db, id);
  if (!row || row.origin === "chain") throw new AppError("TRANSACTION_NOT_FOUND", `No request ${id}`);
  if (row.signature && row.signature !== tx.signature) {
    throw new AppError("TRANSACTION_MISMATCH", "This request is already bound to another transaction", {
      signature: row.signature,
    });
  }
  if (hasLanded(row) || !SENDABLE_STATUSES.includes(row.status)) {
    throw new AppError("TRANSACTION_MISMATCH", `This request is already ${row.status}`);
  }
  const same = row.intentHash ? row.intentHash === tx.intentHash : row.messageHash === tx.messageHash;
  if (!same) {
    throw new AppError(
      "TRANSACTION_MISMATCH",
      "The signed transaction does not carry out this request: its vault instructions (operation, accounts or amount) differ from the ones built",
    );
  }
  return row;
}

/** Without a transactionId: the unbound request this transaction carries out (same rule as ingestion), if any. */
async function matchOpenRequest(services: Services, tx: RelayCandidate): Promise<TransactionRow | null> {
  const rows = await unboundRequests(services.db().db, {
    intents: tx.intentHash ? [tx.intentHash] : [],
    messageHashes: [tx.messageHash],
  });
  const candidates = rows.filter(
    (r) =>
      SENDABLE_STATUSES.includes(r.status) &&
      (r.messageHash === tx.messageHash || (r.intentHash !== null && r.intentHash === tx.intentHash)),
  );
  return pickRequest(candidates, tx);
}

/**
 * Binds the sent transaction to its request (signature, and its own blockhash: a wallet may have replaced the one it
 * was handed, and expiry then follows the transaction's, see lifecycle.ts) and marks it submitted.
 */
async function bindRelayed(services: Services, row: TransactionRow, tx: RelayCandidate): Promise<TransactionRow> {
  const { db } = services.db();
  const sameBlockhash = row.blockhash === tx.recentBlockhash;
  const reportedOther = row.claimStatus === "unverified" && row.claimedSignature !== tx.signature;
  const fields = {
    signature: tx.signature,
    blockhash: tx.recentBlockhash,
    lastValidBlockHeight: sameBlockhash ? row.lastValidBlockHeight : null,
    // A signature reported earlier is not this request's any more: the relay bound the one it sent.
    ...(reportedOther
      ? {
          claimStatus: "rejected" as const,
          claimReason: `The request was relayed as another transaction, ${tx.signature}`,
        }
      : {}),
  };
  try {
    const moved = await applyRequestEvent(db, row, { kind: "sent" }, fields);
    if (moved) return moved;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  // Changed meanwhile (a concurrent relay or ingestion): the request as it now stands answers.
  const now = await findRequestBySignature(db, tx.signature);
  if (now) return now;
  throw new AppError("TRANSACTION_MISMATCH", "This request was bound to another transaction meanwhile");
}

/** A vault transaction the API did not build: a new request row, written once the transaction is sent. */
async function insertRelayed(services: Services, tx: RelayCandidate, state: ChainState): Promise<TransactionRow> {
  const { db } = services.db();
  const [row] = await db
    .insert(transactions)
    .values({
      vaultOwner: requestOwner(tx, state),
      transactionType: tx.type,
      amount: tx.amount,
      status: "submitted",
      origin: "relay",
      signature: tx.signature,
      messageHash: tx.messageHash,
      intentHash: tx.intentHash,
      blockhash: tx.recentBlockhash,
      details: { feePayer: tx.feePayer.toBase58(), builtBy: "client" },
    })
    .onConflictDoNothing()
    .returning();
  const stored = row ?? (await findRequestBySignature(db, tx.signature));
  if (!stored) throw new AppError("TRANSACTION_MISMATCH", "Another request was recorded with this message meanwhile");
  return stored;
}

/**
 * POST /vault/submit with a signature (the wallet sent the transaction itself): accepted as an *unverified* claim.
 * Nothing about the request changes until the chain shows the transaction is this request's (lifecycle.ts
 * `verifyClaim`); a claim the chain disproves is rejected with its reason, and the status stays as it was.
 */
export async function trackSignature(env: Bindings, services: Services, signature: string, transactionId: string) {
  const { db } = services.db();
  const row = await findRequest(db, transactionId);
  if (!row || row.origin === "chain") throw new AppError("TRANSACTION_NOT_FOUND", `No request ${transactionId}`);
  if (row.signature === signature) return requestView(row);
  if (row.signature) {
    throw new AppError("TRANSACTION_MISMATCH", "This request is already bound to another transaction", {
      signature: row.signature,
    });
  }
  const owner = await findRequestBySignature(db, signature);
  if (owner) throw belongsElsewhere(owner.id);
  const [claimed] = await db
    .update(transactions)
    .set({ claimedSignature: signature, claimStatus: "unverified", claimReason: null, updatedAt: sql`now()` })
    .where(and(eq(transactions.id, row.id), isNull(transactions.signature)))
    .returning();
  await trackInHub(env, services, row.vaultOwner, {
    transactionId: row.id,
    lastSentAt: Date.now(),
    trackedSince: Date.now(),
  });
  return requestView(claimed ?? (await findRequest(db, row.id)) ?? row);
}

function belongsElsewhere(id: string): AppError {
  return new AppError("TRANSACTION_MISMATCH", `This transaction belongs to request ${id}`, { transactionId: id });
}

/**
 * Hands a request to the owner's hub (RPC), which follows it on its alarm. An unreachable hub is not the client's
 * error (the transaction is already sent, GET /transactions/:id reads through to the chain and ingestion binds it),
 * so it only reports false.
 */
async function trackInHub(env: Bindings, services: Services, owner: string, entry: TrackedRequest): Promise<boolean> {
  try {
    await ownerHub(env, owner).track(entry);
    return true;
  } catch (err) {
    services.log.warn("owner hub unreachable; the request is followed by status reads and ingestion", { error: err });
    return false;
  }
}
