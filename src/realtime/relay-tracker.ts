import { fromBase64 } from "../chain/accounts.ts";
import { isSettled } from "../db/request-state.ts";
import type { Services } from "../platform/services.ts";
import { refreshRequestStatus } from "../vault/lifecycle.ts";
import { sendRaw, type TrackedRequest } from "../vault/relay.ts";
import { findRequest, type TransactionRow } from "../vault/requests.ts";
import { type OwnerEvent, transactionExpired } from "./events.ts";

export const REBROADCAST_INTERVAL_MS = 2_000;
/**
 * A backstop, not the rule: expiry from the transaction's blockhash ends every entry within ~1–2 minutes, and a
 * confirmed one is finalized by ingestion's finalizer anyway. Past this an entry is dropped whatever the RPC says,
 * so no entry (e.g. one whose RPC calls keep failing) is followed forever.
 */
export const MAX_TRACKING_MS = 15 * 60_000;
const TRACK_PREFIX = "track:";

/** Storage key of a tracked request. */
export function trackKey(transactionId: string): string {
  return `${TRACK_PREFIX}${transactionId}`;
}

/**
 * One pass over the tracked requests: refresh each from the chain (lifecycle.ts), drop the settled ones, and resend
 * the ones still submitted (a validator may drop a transaction; resending the same signed bytes is safe, the chain
 * executes a signature once). Returns how many are still tracked.
 */
export async function relayTick(
  storage: DurableObjectStorage,
  services: Services,
  now: number,
  hooks: { announce?: (events: OwnerEvent[]) => Promise<unknown>; kickIngestor?: () => Promise<void> } = {},
): Promise<number> {
  const tracked = await storage.list<TrackedRequest>({ prefix: TRACK_PREFIX });
  let remaining = 0;
  for (const [key, stored] of tracked) {
    let entry = stored;
    if (entry.trackedSince === undefined) {
      entry = { ...entry, trackedSince: now };
      await storage.put(key, entry);
    }
    const since = entry.trackedSince ?? now;
    try {
      const row = await findRequest(services.db().db, entry.transactionId);
      if (!row) {
        await storage.delete(key);
        continue;
      }
      const fresh = await refreshRequestStatus(services, row, { kickIngestor: hooks.kickIngestor });
      if (isSettled(fresh.status) || now - since > MAX_TRACKING_MS) {
        // Expiry is only known here (an expired transaction never reaches the chain, so ingestion never sees it).
        if (fresh.status === "expired" && row.status !== "expired") await hooks.announce?.([expiredEvent(fresh)]);
        if (!isSettled(fresh.status)) services.log.warn("tracking given up", { transactionId: row.id });
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
      // RPC or database trouble: keep the entry (within the backstop) and try again on the next alarm.
      if (now - since > MAX_TRACKING_MS) await storage.delete(key);
      else remaining++;
      services.log.warn("relay tracking failed; will retry", { transactionId: entry.transactionId, error: err });
    }
  }
  return remaining;
}

function expiredEvent(row: TransactionRow): OwnerEvent {
  return transactionExpired(row);
}
