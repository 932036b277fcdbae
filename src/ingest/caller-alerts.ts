/**
 * Alerts for the two holes anyone can use for a few thousand lamports: lock/unlock/transfer by a caller missing from
 * the authorized list (vault-program.md §8.1) and self-transfers (§8.2). A caller is authorized as the exchange
 * means it (src/vault/authorization.ts): its signing authority or the program that invoked the vault program is
 * listed. Occurrences are counted per cause in one alert per ALERT_AGGREGATION_WINDOW (alerts.ts raiseAggregated),
 * never one alert per transaction; each affected owner still hears about their own transactions.
 */
import type { Database } from "../db/client.ts";
import { type AlertInput, raiseAggregated } from "../platform/alerts.ts";
import type { OwnerEvent } from "../realtime/publish.ts";
import { isAuthorizedCaller } from "../vault/authorization.ts";
import type { BatchResult } from "./store.ts";

const OPERATIONS = {
  LockCollateralEvent: "lock",
  UnlockCollateralEvent: "unlock",
  TransferCollateralEvent: "transfer",
} as const;

/** One transaction event that is an occurrence of a cause. */
interface Occurrence {
  signature: string;
  eventIndex: number;
  owners: string[];
  authority: string;
  invoker: string | null;
  amount: bigint;
  vault: string;
}

/** A cause with what this batch saw of it. */
export interface Cause {
  alert: AlertInput & { details: Record<string, unknown> };
  occurrences: Occurrence[];
}

/**
 * The batch's occurrences grouped by cause: `unauthorized_caller:<operation>:signer` for direct calls by unlisted
 * signers (fresh keys cost nothing, so they share one cause), `…:program:<id>` for CPIs from an unlisted program,
 * and `self_transfer`. The authorized list is read only when the batch has a lock, unlock or transfer.
 */
export async function callerCauses(
  result: BatchResult,
  authorizedList: () => Promise<ReadonlySet<string>>,
): Promise<Cause[]> {
  const causes = new Map<string, Cause>();
  let authorized: ReadonlySet<string> | null = null;
  const add = (alert: Cause["alert"], o: Occurrence) => {
    const cause = causes.get(alert.dedupKey) ?? { alert, occurrences: [] };
    cause.occurrences.push(o);
    causes.set(alert.dedupKey, cause);
  };
  for (const c of result.committed) {
    if (c.failure) continue;
    for (const { event, index, invoker } of c.decoded.events) {
      if (!Object.hasOwn(OPERATIONS, event.name)) continue;
      const operation = OPERATIONS[event.name as keyof typeof OPERATIONS];
      const o = occurrence(c.decoded.tx.signature, index, invoker, event, c.rows);
      if (!o) continue;
      authorized ??= await authorizedList();
      if (!isAuthorizedCaller(authorized, o)) add(unauthorized(operation, invoker), o);
      if (event.name === "TransferCollateralEvent" && event.data.fromVault.equals(event.data.toVault)) {
        add(selfTransfer(), o);
      }
    }
  }
  return [...causes.values()];
}

type BatchEvent = BatchResult["committed"][number]["decoded"]["events"][number]["event"];

function occurrence(
  signature: string,
  eventIndex: number,
  invoker: string | null,
  event: BatchEvent,
  rows: BatchResult["committed"][number]["rows"],
): Occurrence | null {
  const owners = [...new Set(rows.filter((r) => r.eventIndex === eventIndex).map((r) => r.owner))];
  const base = { signature, eventIndex, owners, invoker };
  switch (event.name) {
    case "LockCollateralEvent":
      return { ...base, authority: b58(event.data.lockedBy), amount: event.data.amount, vault: b58(event.data.vault) };
    case "UnlockCollateralEvent":
      return {
        ...base,
        authority: b58(event.data.unlockedBy),
        amount: event.data.amount,
        vault: b58(event.data.vault),
      };
    case "TransferCollateralEvent":
      return {
        ...base,
        authority: b58(event.data.transferredBy),
        amount: event.data.amount,
        vault: b58(event.data.fromVault),
      };
    default:
      return null;
  }
}

function unauthorized(operation: string, invoker: string | null): Cause["alert"] {
  const caller = invoker
    ? `a CPI from program ${invoker}, which is not in the authorized list`
    : "signers missing from the authorized list";
  return {
    kind: "unauthorized_caller",
    severity: "critical",
    dedupKey: `unauthorized_caller:${operation}:${invoker ? `program:${invoker}` : "signer"}`,
    message: `${operation} of vault collateral by ${caller} (program bug §8.1)`,
    details: { operation, caller: invoker ? "program" : "signer", program: invoker },
  };
}

function selfTransfer(): Cause["alert"] {
  return {
    kind: "self_transfer",
    severity: "critical",
    dedupKey: "self_transfer",
    message: "Self-transfers inflated recorded vault balances with no tokens behind them (program bug §8.2)",
    details: {},
  };
}

/**
 * Counts each cause's occurrences in its window's alert, and queues one `alert` event per affected owner and cause
 * (with that owner's own signatures and the window's count so far). Returns how many alerts were opened.
 */
export async function raiseCauses(
  db: Database,
  causes: Cause[],
  windowSec: number,
  byOwner: Map<string, OwnerEvent[]>,
): Promise<number> {
  let opened = 0;
  for (const { alert, occurrences } of causes) {
    const details = {
      ...alert.details,
      windowSeconds: windowSec,
      first: sample(occurrences[0]!),
      last: sample(occurrences[occurrences.length - 1]!),
    };
    const raised = await raiseAggregated(db, { ...alert, details }, occurrences.length, windowSec);
    if (raised.opened) opened++;
    const signatures = new Map<string, string[]>();
    for (const o of occurrences) {
      for (const owner of o.owners) signatures.set(owner, [...(signatures.get(owner) ?? []), o.signature]);
    }
    for (const [owner, mine] of signatures) {
      const data = {
        id: raised.id.toString(),
        kind: alert.kind,
        severity: alert.severity,
        message: alert.message,
        count: raised.count,
        owner,
        details: { ...alert.details, windowSeconds: windowSec, signatures: [...new Set(mine)] },
      };
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), { event: "alert", data }]);
    }
  }
  return opened;
}

function sample(o: Occurrence) {
  return {
    signature: o.signature,
    eventIndex: o.eventIndex,
    owner: o.owners[0] ?? null,
    vault: o.vault,
    authority: o.authority,
    invoker: o.invoker,
    amount: o.amount.toString(),
  };
}

function b58(key: { toBase58(): string }): string {
  return key.toBase58();
}
