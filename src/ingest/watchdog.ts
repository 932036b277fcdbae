/**
 * Watchdog for the program's known holes (vault-program.md §8), run on every committed ingestion batch. Unauthorized
 * callers and self-transfers are counted per cause and window (caller-alerts.ts); the other alerts are raised once
 * per cause (dedup key). Each is pushed as `alert` to the affected owners.
 */
import { vaults } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { type AlertInput, raiseAlert, resolveAlerts } from "../platform/alerts.ts";
import type { Services } from "../platform/services.ts";
import type { OwnerEvent } from "../realtime/publish.ts";
import { readAuthorizedSet } from "../vault/authorization.ts";
import { callerCauses, raiseCauses } from "./caller-alerts.ts";
import type { BatchResult } from "./store.ts";

type Candidate = AlertInput & { notify: string[] | "all" };

/**
 * Raises the batch's alerts and adds `alert` events to `byOwner`: for each new alert of a once-per-cause kind (a
 * duplicate cause is not announced again), and for each aggregated cause that touched an owner in this batch.
 * Pause/unpause concern every owner: they are fanned out to every cached vault owner. Returns the alerts opened.
 */
export async function watchBatch(
  _env: Bindings,
  services: Services,
  result: BatchResult,
  byOwner: Map<string, OwnerEvent[]>,
): Promise<number> {
  const causes = await callerCauses(result, () => readAuthorizedSet(services.rpc, services.config.programId));
  const candidates = [...eventAlerts(result), ...(await tokenShortfalls(services, result))];
  if (candidates.length === 0 && causes.length === 0) return 0;
  const { db } = services.db();
  let raised = await raiseCauses(db, causes, services.config.alertAggregationWindowSec, byOwner);
  let everyone: string[] | null = null;
  for (const c of candidates) {
    const id = await raiseAlert(db, c);
    if (id === null) continue;
    raised++;
    if (c.notify === "all") everyone ??= (await db.select({ owner: vaults.owner }).from(vaults)).map((v) => v.owner);
    const owners = c.notify === "all" ? everyone! : c.notify;
    const data = { id: id.toString(), kind: c.kind, severity: c.severity, message: c.message, details: c.details };
    for (const owner of owners) {
      const list = byOwner.get(owner) ?? [];
      list.push({ event: "alert", data: { ...data, owner } });
      byOwner.set(owner, list);
    }
  }
  return raised;
}

/** Pause/unpause and changes of the authorized list (admin-signed, so one alert each), off the batch. */
function eventAlerts(result: BatchResult): Candidate[] {
  const out: Candidate[] = [];
  for (const c of result.committed) {
    if (c.failure) continue;
    const sig = c.decoded.tx.signature;
    for (const { event, index } of c.decoded.events) {
      if (event.name !== "VaultPausedEvent") continue;
      const paused = event.data.isPaused;
      out.push({
        kind: paused ? "program_paused" : "program_unpaused",
        severity: paused ? "critical" : "warning",
        dedupKey: `pause:${sig}:${index}`,
        message: `The vault program was ${paused ? "paused" : "unpaused"} by ${event.data.admin.toBase58()}`,
        details: { signature: sig, admin: event.data.admin.toBase58(), isPaused: paused },
        notify: "all",
      });
    }
    c.decoded.instructions.forEach((ix, ordinal) => {
      if (ix.name !== "addAuthorizedProgram" && ix.name !== "removeAuthorizedProgram") return;
      const added = ix.name === "addAuthorizedProgram";
      out.push({
        kind: "authorized_list_changed",
        severity: "warning",
        dedupKey: `authorized_list:${sig}:${ordinal}`,
        message: `${ix.args.programId.toBase58()} was ${added ? "added to" : "removed from"} the authorized list`,
        details: { signature: sig, program: ix.args.programId.toBase58(), change: added ? "added" : "removed" },
        notify: [],
      });
    });
  }
  return out;
}

/**
 * Vaults the batch changed whose recorded total exceeds their token account's amount (bug §8.2 or a loss). The
 * condition keys the alert, so it fires once while it lasts and is resolved when the amounts agree again (for the
 * whole batch in one statement: one UPDATE per vault was the watchdog's main cost).
 */
async function tokenShortfalls(services: Services, result: BatchResult): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const cleared: string[] = [];
  for (const v of result.vaults) {
    // Recorded total and token amount from one getMultipleAccounts (same slot): no false alarm from a race.
    if (v.tokenAmount === null || v.tokenSlot !== v.slot) continue;
    const key = `balance_exceeds_tokens:${v.owner}`;
    if (v.totalBalance <= v.tokenAmount) {
      cleared.push(key);
      continue;
    }
    out.push({
      kind: "balance_exceeds_tokens",
      severity: "critical",
      owner: v.owner,
      dedupKey: key,
      message: `Vault of ${v.owner} records ${v.totalBalance} but its token account holds ${v.tokenAmount}`,
      details: { recorded: v.totalBalance.toString(), tokens: v.tokenAmount.toString(), slot: v.slot.toString() },
      notify: [v.owner],
    });
  }
  await resolveAlerts(services.db().db, cleared);
  return out;
}
