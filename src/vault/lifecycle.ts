import { programErrorFromTransaction } from "../chain/program/index.ts";
import type { Database } from "../db/client.ts";
import type { TransactionStatus } from "../db/schema.ts";
import type { Services } from "../env.ts";
import { findRequest, type TransactionRow, updateRequestStatus } from "./requests.ts";

interface SignatureStatus {
  slot: number;
  confirmations: number | null;
  err: unknown;
  confirmationStatus: "processed" | "confirmed" | "finalized" | null;
}

export const TERMINAL: readonly TransactionStatus[] = ["finalized", "failed", "expired"];

/**
 * Brings a request's status up to date with the chain: its signature's status (confirmed / finalized / failed with
 * the program error), or `expired` once the chain's block height has passed the blockhash's last valid height
 * without the transaction landing. Returns the row as stored afterwards.
 */
export async function refreshRequestStatus(
  services: Services,
  db: Database,
  row: TransactionRow,
): Promise<TransactionRow> {
  if (TERMINAL.includes(row.status as TransactionStatus)) return row;
  const { rpc } = services;
  if (row.signature) {
    const { value } = await rpc.call<{ value: (SignatureStatus | null)[] }>("getSignatureStatuses", [
      [row.signature],
      { searchTransactionHistory: true },
    ]);
    const status = value[0];
    if (status) {
      await applySignatureStatus(services, db, row, status);
      return (await findRequest(db, row.id)) ?? row;
    }
  }
  if (row.lastValidBlockHeight !== null) {
    const height = BigInt(await rpc.call<number>("getBlockHeight", [{ commitment: "confirmed" }]));
    if (height > row.lastValidBlockHeight) {
      await updateRequestStatus(db, row.id, "expired");
      return (await findRequest(db, row.id)) ?? row;
    }
  }
  return row;
}

async function applySignatureStatus(services: Services, db: Database, row: TransactionRow, status: SignatureStatus) {
  const slot = BigInt(status.slot);
  if (status.err) {
    const tx = await services.rpc
      .call<{ meta: { logMessages: string[] | null } } | null>("getTransaction", [
        row.signature,
        { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" },
      ])
      .catch(() => null);
    const failure = programErrorFromTransaction(status.err, tx?.meta.logMessages ?? []);
    await updateRequestStatus(db, row.id, "failed", {
      slot,
      errorCode: failure?.code ?? null,
      errorName: failure?.name ?? "TransactionError",
      errorMessage: failure?.message ?? JSON.stringify(status.err),
    });
    return;
  }
  if (status.confirmationStatus === "finalized") await updateRequestStatus(db, row.id, "finalized", { slot });
  else if (status.confirmationStatus === "confirmed") await updateRequestStatus(db, row.id, "confirmed", { slot });
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
    error: row.status === "failed" ? { code: row.errorCode, name: row.errorName, message: row.errorMessage } : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
