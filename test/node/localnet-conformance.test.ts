/**
 * Conformance of the localnet with what @solana/web3.js 1.x and @solana/spl-token send and parse: everything here
 * goes through `Connection` and spl-token (plus raw fetch for the HTTP-level behaviours web3.js hides).
 */

import type { Account as TokenAccount } from "@solana/spl-token";
import {
  createMint,
  createTransferInstruction,
  getAccount,
  getOrCreateAssociatedTokenAccount,
  mintTo,
  transfer,
} from "@solana/spl-token";
import type { ParsedInstruction, PublicKey } from "@solana/web3.js";
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  SendTransactionError,
  SystemProgram,
  sendAndConfirmTransaction,
  Transaction,
} from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Localnet } from "../../dev/localnet/index.ts";
import { startLocalnet } from "../../dev/localnet/index.ts";

let net: Localnet;
let connection: Connection;
const payer = Keypair.generate();
const alice = Keypair.generate();
let mint: PublicKey;
let payerAta: TokenAccount;
let aliceAta: TokenAccount;

async function rpcRaw(body: unknown): Promise<Response> {
  return fetch(net.rpcUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function control(path: string, body: unknown, method = "POST"): Promise<Record<string, unknown>> {
  const res = await fetch(`${net.rpcUrl}/localnet/${path}`, { method, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

function waitFor<T>(register: (resolve: (v: T) => void) => void, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timed out waiting for a notification")), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

async function untilConfirmed(signature: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const status = (await connection.getSignatureStatus(signature)).value?.confirmationStatus;
    if (status === "confirmed" || status === "finalized") return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${signature} never reached confirmed`);
}

beforeAll(async () => {
  net = await startLocalnet({ port: 0, slotMs: 50, finalityDepth: 3, quiet: true });
  connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
  const sig = await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL);
  const bh = await connection.getLatestBlockhash();
  await connection.confirmTransaction({ signature: sig, ...bh });
  await net.fund(alice.publicKey, { lamports: BigInt(LAMPORTS_PER_SOL) });
});

afterAll(async () => {
  await net?.close();
});

describe("the localnet speaks web3.js and spl-token", () => {
  it("airdrops lamports through a real, confirmed transaction", async () => {
    expect(await connection.getBalance(payer.publicKey)).toBe(10 * LAMPORTS_PER_SOL);
    const history = await connection.getSignaturesForAddress(payer.publicKey);
    expect(history).toHaveLength(1);
    expect(history[0]?.err).toBeNull();
  });

  it("creates a mint and token accounts, mints and transfers with spl-token", async () => {
    mint = await createMint(connection, payer, payer.publicKey, null, 6);
    payerAta = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    aliceAta = await getOrCreateAssociatedTokenAccount(connection, payer, mint, alice.publicKey);
    await mintTo(connection, payer, mint, payerAta.address, payer, 5_000_000n);
    await transfer(connection, payer, payerAta.address, aliceAta.address, payer, 1_250_000n);
    expect((await getAccount(connection, aliceAta.address)).amount).toBe(1_250_000n);
    const bal = await connection.getTokenAccountBalance(payerAta.address);
    expect(bal.value).toMatchObject({ amount: "3750000", decimals: 6, uiAmountString: "3.75" });
    const again = await getOrCreateAssociatedTokenAccount(connection, payer, mint, alice.publicKey);
    expect(again.address.equals(aliceAta.address)).toBe(true);
  });

  it("returns parsed token accounts and transactions like the real RPC", async () => {
    const owned = await connection.getParsedTokenAccountsByOwner(alice.publicKey, { mint });
    expect(owned.value).toHaveLength(1);
    expect(owned.value[0]?.account.data.parsed.info.tokenAmount.uiAmount).toBe(1.25);
    const [latest] = await connection.getSignaturesForAddress(aliceAta.address, { limit: 1 });
    const parsed = await connection.getParsedTransaction(latest!.signature, { maxSupportedTransactionVersion: 0 });
    const ix = parsed?.transaction.message.instructions.at(-1) as ParsedInstruction;
    expect(ix.program).toBe("spl-token");
    expect(ix.parsed).toMatchObject({
      type: "transfer",
      info: { amount: "1250000", source: payerAta.address.toBase58() },
    });
    const raw = await connection.getTransaction(latest!.signature, { maxSupportedTransactionVersion: 0 });
    expect(raw?.meta?.postTokenBalances?.map((b) => b.uiTokenAmount.amount).sort()).toEqual(["1250000", "3750000"]);
    expect(raw?.meta?.fee).toBe(5000);
  });

  it("records a failing token transfer with InstructionError custom 1, its logs, and the fee charged", async () => {
    const tx = new Transaction().add(
      createTransferInstruction(aliceAta.address, payerAta.address, alice.publicKey, 99_000_000n),
    );
    await expect(sendAndConfirmTransaction(connection, tx, [alice])).rejects.toSatisfy((e: unknown) => {
      return e instanceof SendTransactionError && (e.logs ?? []).some((l) => l.includes("insufficient funds"));
    });
    const before = await connection.getBalance(alice.publicKey);
    const sig = await connection.sendTransaction(tx, [alice], { skipPreflight: true });
    const bh = await connection.getLatestBlockhash();
    // web3.js resolves with the error from the notification, or rejects with it from its status poll.
    const outcome = await connection.confirmTransaction({ signature: sig, ...bh }).then(
      (r) => r.value.err,
      (e: unknown) => e,
    );
    expect(outcome).toEqual({ InstructionError: [0, { Custom: 1 }] });
    await untilConfirmed(sig);
    const got = await connection.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
    expect(got?.meta?.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(got?.meta?.logMessages?.join("\n")).toContain("Error: insufficient funds");
    expect(await connection.getBalance(alice.publicKey)).toBe(before - 5000);
    expect((await getAccount(connection, aliceAta.address)).amount).toBe(1_250_000n);
  });

  it("refuses a transaction whose signature does not verify", async () => {
    const tx = new Transaction().add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: alice.publicKey, lamports: 1 }),
    );
    tx.recentBlockhash = (await connection.getLatestBlockhash()).blockhash;
    tx.feePayer = payer.publicKey;
    tx.sign(payer);
    const wire = tx.serialize();
    wire[10] = (wire[10] ?? 0) ^ 0xff;
    await expect(connection.sendRawTransaction(wire, { skipPreflight: true })).rejects.toThrow(
      /signature verification/i,
    );
  });

  it("pages getSignaturesForAddress newest first with before, until and limit", async () => {
    const target = Keypair.generate().publicKey;
    const sigs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const tx = new Transaction().add(
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: target, lamports: LAMPORTS_PER_SOL / 100 + i }),
      );
      sigs.push(await sendAndConfirmTransaction(connection, tx, [payer]));
    }
    const newestFirst = [...sigs].reverse();
    const all = await connection.getSignaturesForAddress(target);
    expect(all.map((s) => s.signature)).toEqual(newestFirst);
    const page1 = await connection.getSignaturesForAddress(target, { limit: 2 });
    const page2 = await connection.getSignaturesForAddress(target, { limit: 2, before: page1.at(-1)!.signature });
    expect([...page1, ...page2].map((s) => s.signature)).toEqual(newestFirst);
    const until = await connection.getSignaturesForAddress(target, { until: sigs[1] });
    expect(until.map((s) => s.signature)).toEqual([sigs[3], sigs[2]]);
  });

  it("delivers account, logs, signature and slot notifications over PubSub", async () => {
    const target = Keypair.generate().publicKey;
    const slot = waitFor<number>((done) => {
      const id = connection.onSlotChange((s) => {
        void connection.removeSlotChangeListener(id);
        done(s.slot);
      });
    });
    const account = waitFor<number>((done) => {
      connection.onAccountChange(target, (a) => done(a.lamports), { commitment: "confirmed" });
    });
    const logs = waitFor<string[]>((done) => {
      connection.onLogs(target, (l) => done(l.logs), "confirmed");
    });
    await new Promise((r) => setTimeout(r, 300));
    const tx = new Transaction().add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: target, lamports: LAMPORTS_PER_SOL }),
    );
    const bh = await connection.getLatestBlockhash();
    tx.recentBlockhash = bh.blockhash;
    tx.feePayer = payer.publicKey;
    tx.sign(payer);
    const sig = await connection.sendRawTransaction(tx.serialize());
    const signature = waitFor<unknown>((done) => {
      connection.onSignature(sig, (r) => done(r.err), "finalized");
    });
    expect(await slot).toBeGreaterThan(0);
    expect(await account).toBe(LAMPORTS_PER_SOL);
    expect(await logs).toContain("Program 11111111111111111111111111111111 success");
    expect(await signature).toBeNull();
    const status = await connection.getSignatureStatus(sig);
    expect(status.value?.confirmationStatus).toBe("finalized");
  });

  it("answers batch requests and reports unknown methods as -32601", async () => {
    const res = await rpcRaw([
      { jsonrpc: "2.0", id: 1, method: "getSlot" },
      { jsonrpc: "2.0", id: 2, method: "getNoSuchThing" },
      { jsonrpc: "2.0", id: 3, method: "getBalance", params: ["not-a-key"] },
    ]);
    const body = (await res.json()) as Array<{ id: number; result?: unknown; error?: { code: number } }>;
    expect(body.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(typeof body[0]?.result).toBe("number");
    expect(body[1]?.error?.code).toBe(-32601);
    expect(body[2]?.error?.code).toBe(-32602);
  });

  it("injects 429s with Retry-After on JSON-RPC only, then recovers", async () => {
    await control("faults", { failNext: 1, status: 429 });
    const info = await control("info", undefined, "GET");
    expect(info.programId).toBe(net.programId.toBase58());
    const limited = await rpcRaw({ jsonrpc: "2.0", id: 1, method: "getSlot" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    await control("faults", { failNext: 1 });
    expect(await connection.getSlot()).toBeGreaterThan(0);
    await control("faults", {}, "DELETE");
    expect((await rpcRaw({ jsonrpc: "2.0", id: 1, method: "getHealth" })).status).toBe(200);
  });

  it("refuses a transaction signed with an expired blockhash", async () => {
    const { blockhash } = await connection.getLatestBlockhash();
    await control("expire-blockhashes", {});
    expect((await connection.isBlockhashValid(blockhash)).value).toBe(false);
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight: 1e9 });
    tx.add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: alice.publicKey, lamports: 1 }));
    tx.sign(payer);
    await expect(connection.sendRawTransaction(tx.serialize())).rejects.toThrow(/Blockhash not found/);
  });
});

describe("commitment on a manually driven localnet", () => {
  let manual: Localnet;
  beforeAll(async () => {
    manual = await startLocalnet({ port: 0, slotMs: 3_600_000, finalityDepth: 3, quiet: true });
  });
  afterAll(async () => {
    await manual?.close();
  });

  it("moves a transaction from processed to confirmed to finalized as slots advance", async () => {
    const conn = new Connection(manual.rpcUrl, { commitment: "processed", wsEndpoint: manual.wsUrl });
    const who = Keypair.generate().publicKey;
    const sig = await conn.requestAirdrop(who, LAMPORTS_PER_SOL);
    const status = async () => (await conn.getSignatureStatuses([sig])).value[0]?.confirmationStatus;
    expect(await status()).toBe("processed");
    expect(await conn.getTransaction(sig, { commitment: "confirmed", maxSupportedTransactionVersion: 0 })).toBeNull();
    manual.chain.advanceSlots(1);
    expect(await status()).toBe("confirmed");
    expect(
      await conn.getTransaction(sig, { commitment: "confirmed", maxSupportedTransactionVersion: 0 }),
    ).not.toBeNull();
    await fetch(`${manual.rpcUrl}/localnet/faults`, {
      method: "POST",
      body: JSON.stringify({ stallFinalization: true }),
    });
    await fetch(`${manual.rpcUrl}/localnet/advance`, { method: "POST", body: JSON.stringify({ slots: 5 }) });
    expect(await status()).toBe("confirmed");
    await fetch(`${manual.rpcUrl}/localnet/faults`, { method: "DELETE" });
    manual.chain.advanceSlots(1);
    expect(await status()).toBe("finalized");
    expect(await conn.getSlot("finalized")).toBe((await conn.getSlot("processed")) - 3);
  });
});
