import { eq } from "drizzle-orm";
import { AppError } from "../api/errors.ts";
import { getAccounts, toBase64 } from "../chain/accounts.ts";
import { decodeCollateralVault } from "../chain/program/index.ts";
import { transactions } from "../db/schema.ts";
import type { Bindings, Services } from "../env.ts";
import { ownerHub } from "../realtime/owner-hub.ts";
import { requestView } from "./lifecycle.ts";
import { sendRaw, simulateSigned, type VettedTransaction, vetSignedTransaction, withMessageHash } from "./relay.ts";
import { findRequest, findRequestsByMessageHash, type TransactionRow, updateRequestStatus } from "./requests.ts";

/**
 * POST /vault/submit with a signed transaction: vet, match to its request (by id or by message), simulate (a
 * program failure is answered at once), send, and hand it to the owner's Durable Object for rebroadcast.
 */
export async function relaySigned(
  services: Services,
  env: Bindings,
  signedTransaction: string,
  transactionId?: string,
) {
  const vetted = await withMessageHash(vetSignedTransaction(signedTransaction, services.config.programId));
  const { db } = services.db();
  const row = await matchRequest(services, vetted, transactionId);
  if (row.signature === vetted.signature && row.status !== "pending") {
    // Submitted before (a client retry): answer with the current status instead of sending twice.
    return requestView(row);
  }
  try {
    await simulateSigned(services, vetted.wire);
  } catch (err) {
    if (err instanceof AppError && err.code === "TRANSACTION_FAILED") {
      await updateRequestStatus(db, row.id, "failed", {
        signature: vetted.signature,
        errorCode: (err.details?.programErrorCode as number | null) ?? null,
        errorName: (err.details?.programError as string | undefined) ?? "TransactionError",
        errorMessage: err.message,
      });
    }
    if (err instanceof AppError && err.code === "BLOCKHASH_EXPIRED") await updateRequestStatus(db, row.id, "expired");
    throw err;
  }
  const signature = await sendRaw(services, vetted.wire);
  await updateRequestStatus(db, row.id, "submitted", { signature });
  await trackInHub(env, row.vaultOwner, { transactionId: row.id, wire: toBase64(vetted.wire), lastSentAt: Date.now() });
  return requestView((await findRequest(db, row.id)) ?? row);
}

/** POST /vault/submit with only a signature (the client sent it elsewhere): record it and follow it. */
export async function trackSignature(services: Services, env: Bindings, signature: string, transactionId: string) {
  const { db } = services.db();
  const row = await findRequest(db, transactionId);
  if (!row) throw new AppError("TRANSACTION_NOT_FOUND", `No request ${transactionId}`);
  if (row.signature && row.signature !== signature) {
    throw new AppError("TRANSACTION_MISMATCH", "This request is already bound to another signature");
  }
  await updateRequestStatus(db, row.id, "submitted", { signature });
  await trackInHub(env, row.vaultOwner, { transactionId: row.id, lastSentAt: Date.now() });
  return requestView((await findRequest(db, row.id)) ?? row);
}

/**
 * The request a signed transaction carries out: the given id (its message must be the built one, or differ only
 * where wallets legitimately change it — compute budget), else the request built with the same message, else a new
 * row for a vault transaction built elsewhere.
 */
async function matchRequest(
  services: Services,
  vetted: VettedTransaction,
  transactionId?: string,
): Promise<TransactionRow> {
  const { db } = services.db();
  if (transactionId) {
    const row = await findRequest(db, transactionId);
    if (!row) throw new AppError("TRANSACTION_NOT_FOUND", `No request ${transactionId}`);
    if (row.messageHash !== vetted.messageHash) {
      if (
        row.transactionType !== vetted.type ||
        row.amount !== vetted.amount ||
        row.vaultOwner !== (await ownerOf(services, vetted))
      ) {
        throw new AppError(
          "TRANSACTION_MISMATCH",
          "The signed transaction does not carry out this request (different operation, owner or amount)",
        );
      }
      // A wallet re-priced it (compute budget): the signed message is now the request's identity.
      await db.update(transactions).set({ messageHash: vetted.messageHash }).where(eqId(row.id));
    }
    return row;
  }
  const [byMessage] = await findRequestsByMessageHash(db, vetted.messageHash);
  if (byMessage) return byMessage;
  const [created] = await db
    .insert(transactions)
    .values({
      vaultOwner: await ownerOf(services, vetted),
      transactionType: vetted.type,
      amount: vetted.amount,
      status: "pending",
      messageHash: vetted.messageHash,
      details: { feePayer: vetted.feePayer.toBase58(), builtBy: "client" },
    })
    .returning();
  return created!;
}

/** The vault owner a transaction acts for: the user for user instructions; for lock/unlock/transfer, read the vault. */
async function ownerOf(services: Services, vetted: VettedTransaction): Promise<string> {
  if (!["lock", "unlock", "transfer_out"].includes(vetted.type)) return vetted.owner.toBase58();
  const { accounts } = await getAccounts(services.rpc, [vetted.owner]);
  const account = accounts[0];
  if (!account?.owner.equals(services.config.programId)) {
    throw new AppError("VAULT_NOT_FOUND", `${vetted.owner.toBase58()} is not a vault of this program`);
  }
  return decodeCollateralVault(account.data).owner.toBase58();
}

function eqId(id: string) {
  return eq(transactions.id, id);
}

/**
 * Hands a request to the owner's hub, which follows it on its alarm. The body is always read: an unread response
 * keeps the subrequest open and pins the hub awake. A refusal is not the client's error (the transaction is already
 * sent and GET /transactions/:id reads through to the chain), so it only reports false.
 */
async function trackInHub(env: Bindings, owner: string, entry: Record<string, unknown>): Promise<boolean> {
  const res = await ownerHub(env, owner).fetch("https://owner-hub/track", {
    method: "POST",
    body: JSON.stringify(entry),
  });
  await res.body?.cancel();
  return res.ok;
}
