/** Balance steps derived from a batch's events, as the program computes them (spec §5). */
import { Keypair, type PublicKey } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import type { VaultEvent } from "../../src/chain/program/index.ts";
import { balancePoints, type PriorBalances, type ReadVault, type StepSource } from "../../src/ingest/balance-points.ts";

const key = () => Keypair.generate().publicKey;

function tx(slot: number, events: VaultEvent[], err: unknown = null): StepSource {
  return { tx: { slot: BigInt(slot), err }, events: events.map((event) => ({ event })) };
}

function state(owner: PublicKey, total: bigint, locked: bigint, slot: number): ReadVault {
  return {
    owner: owner.toBase58(),
    totalBalance: total,
    lockedBalance: locked,
    availableBalance: total - locked,
    slot: BigInt(slot),
  };
}

const deposit = (vault: PublicKey, user: PublicKey, amount: bigint, newBalance: bigint): VaultEvent => ({
  name: "DepositEvent",
  data: { user, vault, amount, newBalance, timestamp: 0n },
});
const withdraw = (vault: PublicKey, user: PublicKey, amount: bigint, remainingBalance: bigint): VaultEvent => ({
  name: "WithdrawEvent",
  data: { user, vault, amount, remainingBalance, timestamp: 0n },
});
const lock = (vault: PublicKey, user: PublicKey, amount: bigint, locked: bigint, available: bigint): VaultEvent => ({
  name: "LockCollateralEvent",
  data: {
    user,
    vault,
    amount,
    newLockedBalance: locked,
    newAvailableBalance: available,
    lockedBy: user,
    timestamp: 0n,
  },
});
const transfer = (fromVault: PublicKey, toVault: PublicKey, amount: bigint): VaultEvent => ({
  name: "TransferCollateralEvent",
  data: { fromVault, toVault, amount, transferredBy: key(), reason: "Settlement", timestamp: 0n } as never,
});

const figures = (points: ReturnType<typeof balancePoints>) =>
  points.map((p) => [p.owner.slice(0, 4), p.total, p.locked, p.available, Number(p.slot)]);

describe("balancePoints", () => {
  it("makes each step of one batch a point: 0 → 200 → 125, from a new vault", () => {
    const owner = key();
    const vault = key();
    const init: VaultEvent = {
      name: "VaultInitializedEvent",
      data: { owner, vault, tokenAccount: key(), timestamp: 0n },
    };
    const points = balancePoints(
      [tx(10, [init]), tx(11, [deposit(vault, owner, 200n, 200n)]), tx(12, [withdraw(vault, owner, 75n, 125n)])],
      new Map([[vault.toBase58(), state(owner, 125n, 0n, 12)]]),
      new Map(),
      new Set([vault.toBase58()]),
    );
    const o = owner.toBase58().slice(0, 4);
    expect(figures(points)).toEqual([
      [o, 0n, 0n, 0n, 10],
      [o, 200n, 0n, 200n, 11],
      [o, 125n, 0n, 125n, 12],
    ]);
  });

  it("takes a transfer from the sender's locked first, then available, and credits the receiver's available", () => {
    const [a, b, va, vb] = [key(), key(), key(), key()];
    const prior = new Map<string, PriorBalances>([
      [va.toBase58(), { total: 100n, locked: 30n, available: 70n, slot: 1n }],
      [vb.toBase58(), { total: 10n, locked: 0n, available: 10n, slot: 1n }],
    ]);
    const points = balancePoints(
      [tx(5, [lock(va, a, 10n, 40n, 60n)]), tx(6, [transfer(va, vb, 50n)])],
      new Map([
        [va.toBase58(), state(a, 50n, 0n, 6)],
        [vb.toBase58(), state(b, 60n, 0n, 6)],
      ]),
      prior,
      new Set([va.toBase58(), vb.toBase58()]),
    );
    const [oa, ob] = [a.toBase58().slice(0, 4), b.toBase58().slice(0, 4)];
    expect(figures(points)).toEqual([
      [oa, 100n, 40n, 60n, 5],
      [oa, 50n, 0n, 50n, 6],
      [ob, 60n, 0n, 60n, 6],
    ]);
  });

  it("falls back to the state read when the balances before the batch are unknown or newer than its events", () => {
    const owner = key();
    const vault = key();
    const read = new Map([[vault.toBase58(), state(owner, 90n, 0n, 21)]]);
    const batch = [tx(20, [deposit(vault, owner, 40n, 140n)]), tx(21, [withdraw(vault, owner, 50n, 90n)])];
    const o = owner.toBase58().slice(0, 4);
    // Not cached before: a deposit's event does not name locked or available, so only the read state is a point.
    expect(figures(balancePoints(batch, read, new Map(), new Set([vault.toBase58()])))).toEqual([
      [o, 90n, 0n, 90n, 21],
    ]);
    // Cached at a slot that already includes these transactions (another path committed later ones first).
    const newer = new Map([[vault.toBase58(), { total: 90n, locked: 0n, available: 90n, slot: 25n }]]);
    expect(figures(balancePoints(batch, read, newer, new Set()))).toEqual([]);
  });

  it("ignores failed transactions and ends on the state read when derived figures disagree with it", () => {
    const owner = key();
    const vault = key();
    const prior = new Map([[vault.toBase58(), { total: 100n, locked: 0n, available: 100n, slot: 1n }]]);
    const points = balancePoints(
      [
        tx(3, [deposit(vault, owner, 999n, 1099n)], { InstructionError: [0, "Custom"] }),
        tx(4, [deposit(vault, owner, 5n, 105n)]),
      ],
      // Something the batch did not carry (e.g. a transaction outside it) moved the vault further.
      new Map([[vault.toBase58(), state(owner, 111n, 0n, 4)]]),
      prior,
      new Set([vault.toBase58()]),
    );
    const o = owner.toBase58().slice(0, 4);
    expect(figures(points)).toEqual([
      [o, 105n, 0n, 105n, 4],
      [o, 111n, 0n, 111n, 4],
    ]);
  });
});
