/**
 * The localnet as a real provider behaves: budgets in which every batch item counts (429 + Retry-After beyond
 * them), separate sendTransaction and getProgramAccounts budgets, a getProgramAccounts size cap, lagging nodes and a
 * bounded transaction history. Slots are driven by hand, so what each answer depends on is known.
 */
import { Keypair, SystemProgram, Transaction } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Localnet, RpcFront } from "../../dev/localnet/index.ts";
import { startLocalnet } from "../../dev/localnet/index.ts";
import { TOKEN_PROGRAM } from "../../dev/localnet/ledger.ts";
import { Bucket, makeProfile, PROFILES, profileFromEnv, workerVarsFor } from "../../dev/localnet/profile.ts";

let net: Localnet;
let archive: RpcFront;

type Reply = { id?: number; result?: unknown; error?: { code: number; message: string; data?: unknown } };

async function post(url: string, body: unknown): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

const call = (method: string, params: unknown[] = [], id = 1) => ({ jsonrpc: "2.0", id, method, params });

async function rpc(method: string, params: unknown[] = [], url = net.rpcUrl): Promise<Reply> {
  return (await post(url, call(method, params))).body as Reply;
}

/** Sets the main front's profile knobs (a fresh budget each time). */
async function knobs(body: Record<string, unknown> | null): Promise<void> {
  await fetch(`${net.rpcUrl}/localnet/faults`, {
    method: body ? "POST" : "DELETE",
    body: body ? JSON.stringify(body) : undefined,
  });
}

/** A confirmed airdrop at a known slot: its signature and slot. */
function landedTransfer(): { signature: string; slot: number } {
  const record = net.chain.airdrop(Keypair.generate().publicKey, 1_000_000n);
  net.chain.advanceSlots(1);
  return { signature: record.signature, slot: record.slot };
}

beforeAll(async () => {
  net = await startLocalnet({ port: 0, slotMs: 3_600_000, finalityDepth: 3, quiet: true });
  archive = await net.addFront(PROFILES.ideal);
  net.chain.advanceSlots(20);
});

afterAll(async () => {
  await net?.close();
});

describe("provider budgets", () => {
  it("counts every item of a batch: items beyond the budget get a per-item 429, the rest are answered", async () => {
    await knobs({ requestsPerSecond: 2 });
    try {
      const { status, body } = await post(
        net.rpcUrl,
        Array.from({ length: 10 }, (_, i) => call("getSlot", [], i)),
      );
      expect(status).toBe(200);
      const replies = body as Reply[];
      expect(replies.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(replies.filter((r) => typeof r.result === "number")).toHaveLength(2);
      expect(replies.slice(2).every((r) => r.error?.code === 429)).toBe(true);
    } finally {
      await knobs(null);
    }
  });

  it("refuses a request with HTTP 429 and Retry-After once the budget is spent, and answers again later", async () => {
    await knobs({ requestsPerSecond: 1 });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await post(net.rpcUrl, call("getSlot")));
      const refused = answers.filter((a) => a.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((a) => a.retryAfter === "1" && (a.body as Reply).error?.code === 429)).toBe(true);
      const info = (await (await fetch(`${net.rpcUrl}/localnet/info`)).json()) as { served: { rateLimited: number } };
      expect(info.served.rateLimited).toBeGreaterThanOrEqual(refused.length);
    } finally {
      await knobs(null);
    }
    expect((await post(net.rpcUrl, call("getSlot"))).status).toBe(200);
  });

  it("meters sendTransaction on a budget of its own", async () => {
    const payer = Keypair.generate();
    await net.fund(payer.publicKey, { lamports: 1_000_000_000n });
    const { blockhash } = net.chain.clock.latestBlockhash("confirmed");
    const transfer = (lamports: number) => {
      const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight: 1e9 }).add(
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports }),
      );
      tx.sign(payer);
      return tx.serialize().toString("base64");
    };
    await knobs({ sendPerSecond: 1 });
    try {
      const { body } = await post(net.rpcUrl, [
        call("sendTransaction", [transfer(1_000_000), { encoding: "base64" }], 1),
        call("sendTransaction", [transfer(2_000_000), { encoding: "base64" }], 2),
        call("getSlot", [], 3),
      ]);
      const [first, second, slot] = body as Reply[];
      expect(typeof first?.result).toBe("string");
      expect(second?.error?.code).toBe(429);
      expect(typeof slot?.result).toBe("number");
    } finally {
      await knobs(null);
    }
  });

  it("limits getProgramAccounts by rate and refuses answers above its account cap", async () => {
    for (let i = 0; i < 3; i++) await net.fund(Keypair.generate().publicKey, { usdt: 1n });
    const scan = (id: number) =>
      call("getProgramAccounts", [TOKEN_PROGRAM.toBase58(), { encoding: "base64", filters: [{ dataSize: 165 }] }], id);
    await knobs({ gpaPerSecond: 1 });
    try {
      const [first, second] = (await post(net.rpcUrl, [scan(1), scan(2)])).body as Reply[];
      expect(Array.isArray(first?.result)).toBe(true);
      expect(second?.error?.code).toBe(429);
    } finally {
      await knobs(null);
    }
    await knobs({ gpaMaxAccounts: 2 });
    try {
      const capped = (await post(net.rpcUrl, scan(1))).body as Reply;
      expect(capped.error?.message).toMatch(/Too many accounts requested/);
    } finally {
      await knobs(null);
    }
  });
});

describe("lagging nodes", () => {
  it("answer from behind the tip: -32016 for minContextSlot, BlockhashNotFound, null for recent transactions", async () => {
    const { signature, slot } = landedTransfer();
    const tip = net.chain.clock.slot;
    const fresh = net.chain.clock.latestBlockhash("processed").blockhash;
    await knobs({ lagShare: 1, lagSlots: 5 });
    try {
      expect((await rpc("getSlot", [{ commitment: "processed" }])).result).toBe(tip - 5);
      const min = await rpc("getTransaction", [signature, { commitment: "confirmed", minContextSlot: slot }]);
      expect(min.error).toMatchObject({ code: -32016, message: "Minimum context slot has not been reached" });
      expect((await rpc("getTransaction", [signature, { commitment: "confirmed" }])).result).toBeNull();
      const status = (await rpc("getSignatureStatuses", [[signature]])).result as { value: unknown[] };
      expect(status.value[0]).toBeNull();
      const payer = Keypair.generate();
      await net.fund(payer.publicKey, { lamports: 1_000_000_000n });
      const tx = new Transaction({ feePayer: payer.publicKey, blockhash: fresh, lastValidBlockHeight: 1e9 }).add(
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: payer.publicKey, lamports: 1 }),
      );
      tx.sign(payer);
      const wire = tx.serialize().toString("base64");
      const sim = await rpc("simulateTransaction", [wire, { encoding: "base64" }]);
      expect((sim.result as { value: { err: unknown } }).value.err).toBe("BlockhashNotFound");
      // Its preflight is behind too; without preflight it forwards the transaction to the leader, where it lands.
      const preflight = await rpc("sendTransaction", [wire, { encoding: "base64" }]);
      expect(preflight.error?.message).toMatch(/Blockhash not found/);
      const sent = await rpc("sendTransaction", [wire, { encoding: "base64", skipPreflight: true }]);
      expect(net.chain.ledger.get(sent.result as string)).toBeDefined();
    } finally {
      await knobs(null);
    }
    // The same questions, answered by a node at the tip.
    expect(
      (await rpc("getTransaction", [signature, { commitment: "confirmed", minContextSlot: slot }])).result,
    ).not.toBeNull();
  });
});

describe("history horizon", () => {
  it("answers null for a transaction older than the horizon; an archival front still has it", async () => {
    const { signature } = landedTransfer();
    await knobs({ historySlots: 10 });
    try {
      const config = { commitment: "confirmed", encoding: "base64" };
      expect((await rpc("getTransaction", [signature, config])).result).not.toBeNull();
      net.chain.advanceSlots(11);
      expect((await rpc("getTransaction", [signature, config])).result).toBeNull();
      expect((await rpc("getTransaction", [signature, config], archive.rpcUrl)).result).not.toBeNull();
      // Signatures stay listed (the provider's index keeps them): a client learns the slot of what it cannot fetch.
      const listed = (await rpc("getSignaturesForAddress", [net.chain.faucet.publicKey.toBase58(), { limit: 1000 }]))
        .result as { signature: string }[];
      expect(listed.map((s) => s.signature)).toContain(signature);
    } finally {
      await knobs(null);
    }
  });
});

describe("profiles", () => {
  it("are read from LOCALNET_PROFILE and the LOCALNET_* knobs, and refuse bad values", () => {
    expect(profileFromEnv({})).toEqual(PROFILES.ideal);
    expect(profileFromEnv({ LOCALNET_PROFILE: "provider", LOCALNET_RPS: "10" })).toEqual({
      ...PROFILES.provider,
      requestsPerSecond: 10,
    });
    expect(() => profileFromEnv({ LOCALNET_PROFILE: "mainnet" })).toThrow(/unknown localnet profile/);
    expect(() => makeProfile("ideal", { lagShare: 2 })).toThrow(/lagShare/);
    expect(() => makeProfile("ideal", { latencyMs: -1 })).toThrow(/latencyMs/);
  });

  it("give the Worker a budget and a history horizon that match the provider", () => {
    expect(workerVarsFor(PROFILES.ideal)).toEqual({});
    expect(workerVarsFor(PROFILES.provider)).toMatchObject({
      RPC_ITEMS_PER_SECOND: "50",
      RPC_SEND_PER_SECOND: "5",
      RPC_HISTORY_SLOTS: "432000",
    });
  });

  it("a bucket holds one second's worth, refills continuously and says when to retry", () => {
    const bucket = new Bucket(4, 0);
    expect(bucket.available(0)).toBe(4);
    bucket.take(4);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.retryAfterSec(0)).toBe(1);
    expect(bucket.available(500)).toBe(2);
    expect(bucket.available(10_000)).toBe(4);
  });

  it("switches at run time and DELETE restores the profile the front started with", async () => {
    const set = await post(`${net.rpcUrl}/localnet/faults`, { profile: "provider", latencyMs: 0, jitterMs: 0 });
    expect((set.body as { profile: { requestsPerSecond: number } }).profile.requestsPerSecond).toBe(50);
    await knobs(null);
    const info = (await (await fetch(`${net.rpcUrl}/localnet/info`)).json()) as { profile: unknown };
    expect(info.profile).toEqual(PROFILES.ideal);
  });
});
