/**
 * Balance history from events: every change of a vault's balance that ingestion commits becomes a point of the
 * owner's balance history (`balance_snapshots`), so a chart shows each step (0 → 200 → 125), not what a periodic
 * snapshot happened to see. Pure: the batch's transactions, the cache before the batch and the states read after.
 */
import type { VaultEvent } from "../chain/program/index.ts";

/** What a step is derived from: a committed transaction's slot, outcome and vault events (a `DecodedTx`). */
export interface StepSource {
  tx: { slot: bigint; err: unknown };
  events: readonly { event: VaultEvent }[];
}

/** A vault read after the batch (a `VaultState`). */
export interface ReadVault {
  owner: string;
  totalBalance: bigint;
  lockedBalance: bigint;
  availableBalance: bigint;
  slot: bigint;
}

export interface Balances {
  total: bigint;
  locked: bigint;
  available: bigint;
}

/** A vault's balances as cached before the batch, with the slot they were read at. */
export interface PriorBalances extends Balances {
  slot: bigint;
}

export interface BalancePoint extends Balances {
  owner: string;
  /** The slot of the transaction that made the step (the state's slot for a step read from the chain). */
  slot: bigint;
}

/**
 * The steps each vault took in the batch, in chain order. A step is computed from the vault's balances before it
 * and the event, as the program computes it (spec §5: a deposit adds to total and available; a withdrawal takes from
 * both; lock/unlock name the new locked and available; a transfer takes from `from`'s locked first, then available,
 * and adds to `to`'s available). A vault's steps are derived only when its balances before the batch are known and
 * older than the batch's first event for it (the cache or a VaultInitializedEvent); otherwise — and whenever the
 * derived end differs from the state read after the batch — the state read is the step. The last point of each vault
 * always equals the state read after the batch, when that state is what the cache now holds (`changed`).
 */
export function balancePoints(
  decoded: readonly StepSource[],
  states: ReadonlyMap<string, ReadVault>,
  prior: ReadonlyMap<string, PriorBalances>,
  changed: ReadonlySet<string>,
): BalancePoint[] {
  const current = new Map<string, Balances | null>();
  const points = new Map<string, BalancePoint[]>();
  const start = (vault: string, slot: bigint): Balances | null => {
    if (current.has(vault)) return current.get(vault)!;
    const p = prior.get(vault);
    // A cache row at or after this transaction's slot already includes it (another path committed later ones).
    const known = p && p.slot < slot ? { total: p.total, locked: p.locked, available: p.available } : null;
    current.set(vault, known);
    return known;
  };
  const step = (d: StepSource, vault: string, next: Balances | null) => {
    current.set(vault, next);
    const owner = states.get(vault)?.owner;
    if (!next || !owner) return;
    const list = points.get(vault) ?? [];
    list.push({ owner, ...next, slot: d.tx.slot });
    points.set(vault, list);
  };
  for (const d of decoded) {
    if (d.tx.err) continue;
    for (const { event } of d.events) {
      switch (event.name) {
        case "VaultInitializedEvent": {
          const vault = event.data.vault.toBase58();
          start(vault, d.tx.slot);
          step(d, vault, { total: 0n, locked: 0n, available: 0n });
          break;
        }
        case "DepositEvent": {
          const vault = event.data.vault.toBase58();
          const b = start(vault, d.tx.slot);
          step(
            d,
            vault,
            b && { total: event.data.newBalance, locked: b.locked, available: b.available + event.data.amount },
          );
          break;
        }
        case "WithdrawEvent": {
          const vault = event.data.vault.toBase58();
          const b = start(vault, d.tx.slot);
          const available = b ? b.available - event.data.amount : -1n;
          step(
            d,
            vault,
            b && available >= 0n ? { total: event.data.remainingBalance, locked: b.locked, available } : null,
          );
          break;
        }
        case "LockCollateralEvent":
        case "UnlockCollateralEvent": {
          const vault = event.data.vault.toBase58();
          start(vault, d.tx.slot);
          // Self-contained: the event names both new figures.
          const { newLockedBalance: locked, newAvailableBalance: available } = event.data;
          step(d, vault, { total: locked + available, locked, available });
          break;
        }
        case "TransferCollateralEvent": {
          const from = event.data.fromVault.toBase58();
          const to = event.data.toVault.toBase58();
          const amount = event.data.amount;
          const f = start(from, d.tx.slot);
          let afterFrom: Balances | null = null;
          if (f && f.total >= amount) {
            afterFrom =
              f.locked >= amount
                ? { total: f.total - amount, locked: f.locked - amount, available: f.available }
                : { total: f.total - amount, locked: 0n, available: f.available - (amount - f.locked) };
            if (afterFrom.available < 0n) afterFrom = null;
          }
          step(d, from, afterFrom);
          const t = start(to, d.tx.slot);
          step(d, to, t && { total: t.total + amount, locked: t.locked, available: t.available + amount });
          break;
        }
        case "VaultPausedEvent":
          break;
      }
    }
  }
  const out: BalancePoint[] = [];
  for (const [vault, state] of states) {
    const list = points.get(vault) ?? [];
    if (changed.has(vault)) {
      const last = list[list.length - 1];
      const read = { total: state.totalBalance, locked: state.lockedBalance, available: state.availableBalance };
      if (!last || !same(last, read)) {
        list.push({ owner: state.owner, ...read, slot: state.slot });
      }
    }
    // A figure repeated by consecutive points is one step, written once.
    out.push(...list.filter((p, i) => i === 0 || !same(p, list[i - 1]!)));
  }
  return out;
}

function same(a: Balances, b: Balances): boolean {
  return a.total === b.total && a.locked === b.locked && a.available === b.available;
}
