/**
 * Unit tests of the pure pieces: the token bucket, exact JSON amounts, amount parsing, the Scheduler's stall rule and
 * the per-owner events of a committed batch.
 */
import { Keypair } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import { batchEvents, type CommittedForEvents } from "../../src/ingest/owner-events.ts";
import { isStalled } from "../../src/jobs/stall.ts";
import { formatUsdt, parseAmount, U64_MAX } from "../../src/lib/amount.ts";
import { toJson } from "../../src/lib/json.ts";
import { liveLeases, takeTokens } from "../../src/lib/token-bucket.ts";
import type { VaultState } from "../../src/vault/vault-state.ts";

describe("token bucket", () => {
  const rule = { capacity: 3, perMinute: 60 };

  it("starts full, refuses past its capacity with the seconds until a token is back", () => {
    let state = null;
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const r = takeTokens(state, rule, 1, 1_000);
      state = r.state;
      answers.push(r.answer);
    }
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false]);
    expect(answers.map((a) => a.remaining)).toEqual([2, 1, 0, 0]);
    // 60 a minute: one token a second.
    expect(answers[3]!.retryAfterSec).toBe(1);
  });

  it("refills continuously and never above its capacity", () => {
    const empty = { tokens: 0, at: 0 };
    expect(takeTokens(empty, rule, 1, 500).answer.allowed).toBe(false);
    expect(takeTokens(empty, rule, 1, 1_000).answer).toMatchObject({ allowed: true, remaining: 0 });
    expect(takeTokens(empty, rule, 1, 3_600_000).answer.remaining).toBe(2);
  });

  it("a refused take costs nothing, and a clock going back refills nothing", () => {
    const low = { tokens: 0.5, at: 10_000 };
    const refused = takeTokens(low, rule, 1, 10_000);
    expect(refused.state.tokens).toBe(0.5);
    expect(takeTokens(low, rule, 1, 5_000).state.tokens).toBe(0.5);
  });

  it("a rule with no refill asks the caller to come back in a minute", () => {
    expect(takeTokens({ tokens: 0, at: 0 }, { capacity: 1, perMinute: 0 }, 1, 1).answer.retryAfterSec).toBe(60);
  });

  it("keeps only the leases that have not lapsed", () => {
    expect(liveLeases({ a: 5, b: 10, c: 11 }, 10)).toEqual({ c: 11 });
  });
});

describe("exact JSON amounts", () => {
  it("writes bigints as exact integer literals, never through Number", () => {
    expect(toJson({ amount: U64_MAX, small: 5n })).toBe('{"amount":18446744073709551615,"small":5}');
  });

  it("never turns a client's string into a number", () => {
    expect(toJson({ "\u0000123\u0000": 1, text: "\u0000123\u0000" })).toBe(
      '{"\\u0000123\\u0000":1,"text":"\\u0000123\\u0000"}',
    );
  });
});

describe("amounts", () => {
  it("parses safe integers and decimal strings exactly, up to u64 max", () => {
    expect(parseAmount(1_000_000)).toEqual({ ok: true, value: 1_000_000n });
    expect(parseAmount("18446744073709551615")).toEqual({ ok: true, value: U64_MAX });
  });

  it("refuses fractions, exponents, negatives, unsafe numbers, overflow and other types with the reason", () => {
    const problems = [1.5, "1.5", "1e6", -1, "-1", 2 ** 53, "18446744073709551616", "", "0x10", null, true].map((v) => {
      const r = parseAmount(v);
      return r.ok ? "accepted" : r.problem;
    });
    expect(problems).toEqual([
      "not_an_integer",
      "not_an_integer",
      "not_an_integer",
      "negative",
      "negative",
      "unsafe_number",
      "too_large",
      "empty",
      "wrong_type",
      "wrong_type",
      "wrong_type",
    ]);
  });

  it("formats exactly, with at least two decimals", () => {
    expect(formatUsdt(1_000_000_000n)).toBe("1000.00 USDT");
    expect(formatUsdt(1_234_567n)).toBe("1.234567 USDT");
    expect(formatUsdt(50_000_000_000n, { grouping: true })).toBe("50,000.00 USDT");
    expect(formatUsdt(-1n)).toBe("-0.000001 USDT");
  });
});

describe("the Scheduler's stall rule", () => {
  const interval = 30_000;
  const now = 1_000_000;

  it("is stalled when unreachable, when its alarm is overdue by two intervals, or after three intervals without a run", () => {
    expect(isStalled(null, interval, now)).toBe(true);
    expect(isStalled({ alarmAt: now - 2 * interval - 1, lastRunAt: now }, interval, now)).toBe(true);
    expect(isStalled({ alarmAt: now + interval, lastRunAt: now - 3 * interval - 1 }, interval, now)).toBe(true);
  });

  it("is not stalled on time, nor before its first run", () => {
    expect(isStalled({ alarmAt: now + interval, lastRunAt: now - interval }, interval, now)).toBe(false);
    expect(isStalled({ alarmAt: now - interval, lastRunAt: null }, interval, now)).toBe(false);
  });
});

describe("events of a committed batch", () => {
  const a = Keypair.generate().publicKey;
  const b = Keypair.generate().publicKey;
  const vault = Keypair.generate().publicKey;
  const engine = Keypair.generate().publicKey;
  const chainTx = (signature: string, slot: bigint) => ({ signature, slot, blockTime: null });
  const lock: CommittedForEvents = {
    decoded: {
      tx: chainTx("sig-lock", 10n),
      events: [
        {
          index: 0,
          invoker: null,
          event: {
            name: "LockCollateralEvent",
            data: {
              user: a,
              vault,
              amount: 5n,
              newLockedBalance: 5n,
              newAvailableBalance: 95n,
              lockedBy: engine,
              timestamp: 0n,
            },
          },
        },
      ],
    },
    rows: [
      {
        id: "row-1",
        owner: a.toBase58(),
        type: "lock",
        amount: 5n,
        eventIndex: 0,
        counterparty: null,
        reason: null,
        requestId: null,
        positionId: "p-1",
      },
    ],
    failure: null,
  };
  const failed: CommittedForEvents = {
    decoded: { tx: chainTx("sig-failed", 11n), events: [] },
    rows: [],
    failure: {
      instructionIndex: 0,
      code: 6002,
      name: "InsufficientBalance",
      message: "not enough",
      owners: [a.toBase58(), b.toBase58()],
      requestIds: new Map([[b.toBase58(), "request-b"]]),
    },
  };
  const state = {
    address: vault.toBase58(),
    owner: a.toBase58(),
    totalBalance: 100n,
    lockedBalance: 5n,
    availableBalance: 95n,
    slot: 11n,
    mint: null,
    backing: { tokenAccountBalance: 100n, backedBalance: 100n, unbackedBalance: 0n, isUsdt: true, flags: [] },
  } as unknown as VaultState;

  it("tells each owner its events in chain order, the specific one after its confirmation, balances last", () => {
    const byOwner = batchEvents({ committed: [lock, failed], vaults: [state] });
    expect(byOwner.get(a.toBase58())?.map((e) => e.event)).toEqual([
      "transaction_confirmed",
      "collateral_locked",
      "transaction_failed",
      "balance_update",
    ]);
    expect(byOwner.get(b.toBase58())?.map((e) => e.event)).toEqual(["transaction_failed"]);
    const locked = byOwner.get(a.toBase58())![1]!.data as Record<string, unknown>;
    expect(locked).toMatchObject({ amount: 5n, lockedBalance: 5n, positionId: "p-1", authority: engine.toBase58() });
    const toB = byOwner.get(b.toBase58())![0]!.data as Record<string, unknown>;
    expect(toB).toMatchObject({ transactionId: "request-b", signature: "sig-failed", error: { code: 6002 } });
  });

  it("an empty batch tells nobody anything", () => {
    expect(batchEvents({ committed: [], vaults: [] }).size).toBe(0);
  });
});
