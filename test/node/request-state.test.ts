/** The pure pieces of request handling: the state machine, the tie-break between requests, the authorization rule. */
import { Keypair, PublicKey } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import {
  nextStatus,
  REQUEST_STATUSES,
  type RequestStatus,
  statusesMovedByLanding,
} from "../../src/db/request-state.ts";
import { isAuthorizedCaller } from "../../src/vault/authorization.ts";
import { intentHash, pickRequest } from "../../src/vault/intent.ts";

const unlanded = (status: RequestStatus) => ({ status, landed: false });
const landed = (status: RequestStatus) => ({ status, landed: true });

describe("the request state machine", () => {
  it("lets a landing overrule every guess: pending, submitted, expired and an unlanded failure", () => {
    for (const status of ["pending", "submitted", "expired", "failed"] as const) {
      expect(nextStatus(unlanded(status), { kind: "landed", outcome: "confirmed" })).toBe("confirmed");
      expect(nextStatus(unlanded(status), { kind: "landed", outcome: "finalized" })).toBe("finalized");
      expect(nextStatus(unlanded(status), { kind: "landed", outcome: "failed" })).toBe("failed");
    }
  });

  it("never moves a landed request except confirmed to finalized", () => {
    expect(nextStatus(landed("confirmed"), { kind: "landed", outcome: "finalized" })).toBe("finalized");
    for (const status of REQUEST_STATUSES) {
      for (const outcome of ["confirmed", "failed"] as const) {
        expect(nextStatus(landed(status), { kind: "landed", outcome })).toBeNull();
      }
      expect(nextStatus(landed(status), { kind: "expired" })).toBeNull();
      expect(nextStatus(landed(status), { kind: "sent" })).toBeNull();
    }
  });

  it("expires only what is still waiting, and sends only what was never sent or has run out", () => {
    expect(REQUEST_STATUSES.filter((s) => nextStatus(unlanded(s), { kind: "expired" }) === "expired")).toEqual([
      "pending",
      "submitted",
    ]);
    expect(REQUEST_STATUSES.filter((s) => nextStatus(unlanded(s), { kind: "sent" }) === "submitted")).toEqual([
      "pending",
      "failed",
      "expired",
    ]);
  });

  it("gives SQL callers the same lists as nextStatus", () => {
    expect(statusesMovedByLanding("confirmed")).toEqual(["pending", "submitted", "failed", "expired"]);
    expect(statusesMovedByLanding("finalized")).toEqual(["pending", "submitted", "failed", "expired"]);
  });
});

describe("which request a landed transaction carries out", () => {
  const tx = { signature: "sig", messageHash: "m1", recentBlockhash: "bh1" };
  const at = (ms: number) => new Date(1_700_000_000_000 + ms);
  const req = (id: string, p: Partial<{ messageHash: string; blockhash: string; claimed: string; t: number }>) => ({
    id,
    messageHash: p.messageHash ?? `other-${id}`,
    blockhash: p.blockhash ?? `bh-${id}`,
    claimedSignature: p.claimed ?? null,
    createdAt: at(p.t ?? 0),
  });

  it("prefers the exact message, then the same blockhash, then a reported signature, then the oldest", () => {
    const exact = req("e", { messageHash: "m1", t: 9 });
    const sameBlockhash = req("b", { blockhash: "bh1", t: 1 });
    const reported = req("r", { claimed: "sig", t: 2 });
    const oldest = req("o", { t: 0 });
    expect(pickRequest([oldest, reported, sameBlockhash, exact], tx)?.id).toBe("e");
    expect(pickRequest([oldest, reported, sameBlockhash], tx)?.id).toBe("b");
    expect(pickRequest([oldest, reported], tx)?.id).toBe("r");
    expect(pickRequest([req("n", { t: 5 }), oldest], tx)?.id).toBe("o");
    // Two requests built with the transaction's blockhash: the one the wallet reported the signature for.
    expect(pickRequest([sameBlockhash, req("c", { blockhash: "bh1", claimed: "sig", t: 8 })], tx)?.id).toBe("c");
    // Full ties fall to the smallest id: the same answer whatever order the rows come in.
    expect(pickRequest([req("z", {}), req("a", {})], tx)?.id).toBe("a");
    expect(pickRequest([req("a", {}), req("z", {})], tx)?.id).toBe("a");
    expect(pickRequest([], tx)).toBeNull();
  });

  it("identifies a request by its vault instructions only: accounts and data in order, nothing around them", async () => {
    const program = Keypair.generate().publicKey;
    const [a, b] = [Keypair.generate().publicKey, Keypair.generate().publicKey];
    const ix = (accounts: PublicKey[], data: number[]) => ({
      programId: program,
      accounts,
      data: Uint8Array.from(data),
    });
    const other = {
      programId: new PublicKey("L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95"),
      accounts: [a],
      data: Uint8Array.of(8),
    };
    const base = await intentHash([ix([a, b], [1, 2, 3])], program);
    expect(await intentHash([other, ix([a, b], [1, 2, 3]), other], program)).toBe(base);
    expect(await intentHash([ix([b, a], [1, 2, 3])], program)).not.toBe(base);
    expect(await intentHash([ix([a, b], [1, 2, 4])], program)).not.toBe(base);
    expect(await intentHash([ix([a, b, a], [1, 2, 3])], program)).not.toBe(base);
    expect(await intentHash([ix([a, b], [1, 2, 3]), ix([a, b], [1, 2, 3])], program)).not.toBe(base);
    expect(await intentHash([other], program)).toBeNull();
  });
});

describe("isAuthorizedCaller", () => {
  const listed = new Set([
    "Engine1111111111111111111111111111111111111",
    "TradingProgram11111111111111111111111111111",
  ]);

  it("accepts a listed signing authority, or a listed program invoking the vault program", () => {
    expect(
      isAuthorizedCaller(listed, { authority: "Engine1111111111111111111111111111111111111", invoker: null }),
    ).toBe(true);
    expect(
      isAuthorizedCaller(listed, { authority: "SomePda", invoker: "TradingProgram11111111111111111111111111111" }),
    ).toBe(true);
  });

  it("refuses anyone else, top level or invoked by an unlisted program", () => {
    expect(isAuthorizedCaller(listed, { authority: "Stranger", invoker: null })).toBe(false);
    expect(isAuthorizedCaller(listed, { authority: "Stranger", invoker: "OtherProgram" })).toBe(false);
    expect(
      isAuthorizedCaller(new Set(), { authority: "Engine1111111111111111111111111111111111111", invoker: null }),
    ).toBe(false);
  });
});
