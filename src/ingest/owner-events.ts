/** What each owner is told about a committed batch (pure: payloads built by realtime/events.ts). */
import type { ProgramEvent, TransactionProgramError } from "../chain/program/index.ts";
import {
  balanceUpdate,
  collateralMoved,
  collateralTransferred,
  type EventRow,
  type LandedTx,
  type OwnerEvent,
  transactionConfirmed,
  transactionFailed,
} from "../realtime/events.ts";
import type { VaultState } from "../vault/vault-state.ts";

/** What events need of a committed transaction (store.ts's CommittedTx has it). */
export interface CommittedForEvents {
  decoded: { tx: LandedTx; events: ProgramEvent[] };
  rows: EventRow[];
  failure: (TransactionProgramError & { owners: string[]; requestIds: Map<string, string> }) | null;
}

/** Per-owner events for a committed batch, in chain order, then one balance_update per changed vault. */
export function batchEvents(result: {
  committed: CommittedForEvents[];
  vaults: VaultState[];
}): Map<string, OwnerEvent[]> {
  const out = new Map<string, OwnerEvent[]>();
  const push = (owner: string, e: OwnerEvent) => {
    const list = out.get(owner) ?? [];
    list.push(e);
    out.set(owner, list);
  };
  for (const c of result.committed) {
    const tx = c.decoded.tx;
    if (c.failure) {
      const f = c.failure;
      const error = { code: f.code ?? null, name: f.name, message: f.message, instructionIndex: f.instructionIndex };
      for (const owner of f.owners) push(owner, transactionFailed(tx, owner, f.requestIds.get(owner) ?? null, error));
      continue;
    }
    for (const row of c.rows) {
      push(row.owner, transactionConfirmed(tx, row));
      const specific = specificEvent(c, row);
      if (specific) push(row.owner, specific);
    }
  }
  for (const v of result.vaults) push(v.owner, balanceUpdate(v));
  return out;
}

/** collateral_locked / _unlocked / _transferred with the event's own figures. */
function specificEvent(c: CommittedForEvents, row: EventRow): OwnerEvent | null {
  const found = c.decoded.events.find((e) => e.index === row.eventIndex);
  if (!found) return null;
  const tx = c.decoded.tx;
  const { event } = found;
  if (event.name === "LockCollateralEvent" || event.name === "UnlockCollateralEvent") {
    const by = event.name === "LockCollateralEvent" ? event.data.lockedBy : event.data.unlockedBy;
    return collateralMoved(event.name === "LockCollateralEvent" ? "locked" : "unlocked", tx, row, {
      vault: event.data.vault.toBase58(),
      amount: event.data.amount,
      lockedBalance: event.data.newLockedBalance,
      availableBalance: event.data.newAvailableBalance,
      authority: by.toBase58(),
    });
  }
  if (event.name === "TransferCollateralEvent") {
    return collateralTransferred(tx, row, {
      amount: event.data.amount,
      reason: event.data.reason,
      fromVault: event.data.fromVault.toBase58(),
      toVault: event.data.toVault.toBase58(),
      authority: event.data.transferredBy.toBase58(),
    });
  }
  return null;
}
