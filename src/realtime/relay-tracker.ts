import { fromBase64 } from "../chain/accounts.ts";
import type { TransactionStatus } from "../db/schema.ts";
import type { Services } from "../env.ts";
import { refreshRequestStatus, TERMINAL } from "../vault/lifecycle.ts";
import { sendRaw } from "../vault/relay.ts";
import { findRequest } from "../vault/requests.ts";
import type { OwnerEvent } from "./publish.ts";

/** A request the owner's Durable Object follows until it is finalized, failed or expired. */
export interface TrackedRequest {
  transactionId: string;
  /** Signed wire transaction (base64) to rebroadcast; absent when the client only posted the signature. */
  wire?: string;
  lastSentAt: number;
}

export const REBROADCAST_INTERVAL_MS = 2_000;
const TRACK_PREFIX = "track:";

/** Storage key of a tracked request. */
export function trackKey(transactionId: string): string {
  return `${TRACK_PREFIX}${transactionId}`;
}

/**
 * One pass over the tracked requests: refresh each status from the chain, drop the finished ones, and resend the
 * ones still unconfirmed (a validator may drop a transaction; resending the same signed bytes is safe, the chain
 * executes a signature once). Returns how many are still tracked.
 */
export async function relayTick(
  storage: DurableObjectStorage,
  services: Services,
  now: number,
  announce?: (events: OwnerEvent[]) => Promise<unknown>,
): Promise<number> {
  const tracked = await storage.list<TrackedRequest>({ prefix: TRACK_PREFIX });
  const { db } = services.db();
  let remaining = 0;
  for (const [key, entry] of tracked) {
    try {
      const row = await findRequest(db, entry.transactionId);
      if (!row) {
        await storage.delete(key);
        continue;
      }
      const fresh = await refreshRequestStatus(services, db, row);
      if (TERMINAL.includes(fresh.status as TransactionStatus)) {
        // Expiry is only known here (an expired transaction never reaches the chain, so ingestion never sees it).
        if (fresh.status === "expired" && row.status !== "expired") await announce?.([expiredEvent(fresh)]);
        await storage.delete(key);
        continue;
      }
      remaining++;
      if (entry.wire && fresh.status === "submitted" && now - entry.lastSentAt >= REBROADCAST_INTERVAL_MS) {
        await sendRaw(services, fromBase64(entry.wire)).catch((err) =>
          services.log.debug("rebroadcast refused", { transactionId: entry.transactionId, error: err }),
        );
        await storage.put(key, { ...entry, lastSentAt: now });
      }
    } catch (err) {
      // RPC or database trouble: keep the entry and try again on the next alarm.
      remaining++;
      services.log.warn("relay tracking failed; will retry", { transactionId: entry.transactionId, error: err });
    }
  }
  return remaining;
}

function expiredEvent(row: { id: string; vaultOwner: string; transactionType: string }): OwnerEvent {
  return {
    event: "transaction_expired",
    data: { transactionId: row.id, owner: row.vaultOwner, type: row.transactionType, status: "expired" },
  };
}
