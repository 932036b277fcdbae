/**
 * Honest flows as real wallets run them: Lighthouse assertions added before signing, a re-priced compute budget, a
 * replaced blockhash, a transaction the wallet sends itself — each request still ends as what the chain did.
 */
import { Keypair, SystemProgram } from "@solana/web3.js";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { associatedTokenAddress } from "../../src/chain/program/index.ts";
import { chainTransactions } from "../../src/db/schema.ts";
import { eventually } from "../eventually.ts";
import { confirmed, fundedWallet, rpc, sendSigned } from "./chain.ts";
import { build, buildSignRelay, waitForStatus } from "./flow.ts";
import { call, postJson } from "./helpers.ts";
import { ingestPass, openSocket, usdtMint, withDb } from "./ingest-support.ts";
import {
  latestBlockhash,
  lighthouseAssertion,
  messageHashOf,
  rowsFor,
  sendFromWallet,
  signatureOf,
  walletSign,
} from "./wallet.ts";

/** A wallet with a vault, built and relayed through the API, holding `usdt` more in its token account. */
async function owner(usdt: bigint) {
  const wallet = await fundedWallet({ usdt });
  const userPubkey = wallet.publicKey.toBase58();
  await buildSignRelay("/vault/initialize", { userPubkey }, [wallet]);
  return { wallet, userPubkey, tokenAccount: associatedTokenAddress(wallet.publicKey, usdtMint()) };
}

/** Runs ingestion passes (the Ingestor's loop in production) until `check` holds. */
function ingestedUntil<T>(check: () => Promise<T | undefined>) {
  // A wait, not a timing: generous because the whole suite shares one localnet and two cores.
  return eventually(async () => {
    await ingestPass();
    return check();
  }, 120_000);
}

/** The chain_transactions row of a signature (whether ingestion committed it, and by which path). */
async function storedSignature(signature: string) {
  const rows = await withDb((db) =>
    db.select().from(chainTransactions).where(eq(chainTransactions.signature, signature)),
  );
  return rows[0] ? { source: rows[0].source, slot: String(rows[0].slot), messageHash: rows[0].messageHash } : null;
}

async function status(id: string) {
  return (await call(`/transactions/${id}`)).body.data as Record<string, unknown>;
}

describe("real wallets", () => {
  it("relays a deposit a wallet signed with Lighthouse assertions added, for the request it was built as", async () => {
    const o = await owner(10_000_000n);
    const request = await build("/vault/deposit", { userPubkey: o.userPubkey, amount: 4_000_000 });
    const signed = walletSign(request.unsignedTransaction, { append: [lighthouseAssertion(o.tokenAccount)] }, o.wallet);
    const res = await postJson("/vault/submit", { signedTransaction: signed, transactionId: request.transactionId });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.data).toMatchObject({ transactionId: request.transactionId, status: "submitted" });
    const done = await waitForStatus(request.transactionId, "confirmed", "finalized");
    expect(done).toMatchObject({ signature: signatureOf(signed), amount: 4000000 });
    // Ingested later, the landed transaction is this request's row: one deposit row, not two.
    const rows = await ingestedUntil(async () => {
      const all = await rowsFor(o.userPubkey, signatureOf(signed));
      return all.some((r) => r.eventIndex !== null && r.transactionType === "deposit") ? all : undefined;
    });
    expect(rows.filter((r) => r.transactionType === "deposit").map((r) => r.id)).toEqual([request.transactionId]);
  });

  it("confirms a request whose Lighthouse-augmented transaction the wallet sent itself, never reported", async () => {
    const o = await owner(10_000_000n);
    const request = await build("/vault/deposit", { userPubkey: o.userPubkey, amount: 3_000_000 });
    const signed = walletSign(request.unsignedTransaction, { append: [lighthouseAssertion(o.tokenAccount)] }, o.wallet);
    const signature = await sendFromWallet(signed);
    await confirmed(signature, { failOnError: true });
    const done = await ingestedUntil(async () => {
      const s = await status(request.transactionId);
      return s.status === "confirmed" || s.status === "finalized" ? s : undefined;
    });
    expect(done).toMatchObject({ signature, amount: 3000000, reportedSignature: null });
  });

  it("relays a transaction whose compute-unit price the wallet raised, for the same request", async () => {
    const o = await owner(5_000_000n);
    const request = await build("/vault/deposit", { userPubkey: o.userPubkey, amount: 1_000_000 });
    const signed = walletSign(request.unsignedTransaction, { computeUnitPrice: 7_777 }, o.wallet);
    const res = await postJson("/vault/submit", { signedTransaction: signed, transactionId: request.transactionId });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await waitForStatus(request.transactionId, "confirmed", "finalized")).signature).toBe(signatureOf(signed));
  });

  it("verifies a signature reported for a Lighthouse-augmented transaction the wallet sent, and binds it", async () => {
    const o = await owner(5_000_000n);
    const request = await build("/vault/deposit", { userPubkey: o.userPubkey, amount: 2_000_000 });
    const signed = walletSign(request.unsignedTransaction, { append: [lighthouseAssertion(o.tokenAccount)] }, o.wallet);
    const signature = await sendFromWallet(signed);
    const res = await postJson("/vault/submit", { signature, transactionId: request.transactionId });
    expect(res.status).toBe(202);
    const done = await waitForStatus(request.transactionId, "confirmed", "finalized");
    expect(done).toMatchObject({ signature, reportedSignature: { signature, status: "verified" } });
  });

  it("rejects a reported signature of a transaction doing something else, and leaves the request pending", async () => {
    const o = await owner(5_000_000n);
    const asked = await build("/vault/deposit", { userPubkey: o.userPubkey, amount: 2_000_000 });
    // A transaction of the same wallet that is no vault operation at all (never ingested: not the program's).
    const signature = await sendSigned(
      [
        SystemProgram.transfer({
          fromPubkey: o.wallet.publicKey,
          toPubkey: Keypair.generate().publicKey,
          lamports: 1e6,
        }),
      ],
      [o.wallet],
    );
    await confirmed(signature, { failOnError: true });
    const res = await postJson("/vault/submit", { signature, transactionId: asked.transactionId });
    expect(res.status).toBe(202);
    const rejected = await eventually(async () => {
      const s = await status(asked.transactionId);
      return (s.reportedSignature as { status: string } | null)?.status === "rejected" ? s : undefined;
    });
    expect(rejected).toMatchObject({ status: "pending", signature: null });
    expect((rejected.reportedSignature as { reason: string }).reason).toMatch(/vault instructions/);
  });
  it("settles an earlier report when the request is relayed as another transaction", async () => {
    const o = await owner(5_000_000n);
    const request = await build("/vault/deposit", { userPubkey: o.userPubkey, amount: 1_000_000 });
    const reported = signatureOf(walletSign(request.unsignedTransaction, { computeUnitPrice: 1 }, o.wallet));
    expect(
      (await postJson("/vault/submit", { signature: reported, transactionId: request.transactionId })).status,
    ).toBe(202);
    const signed = walletSign(request.unsignedTransaction, {}, o.wallet);
    const res = await postJson("/vault/submit", { signedTransaction: signed, transactionId: request.transactionId });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({
      signature: signatureOf(signed),
      reportedSignature: { signature: reported, status: "rejected" },
    });
    expect(await waitForStatus(request.transactionId, "confirmed", "finalized")).toMatchObject({
      signature: signatureOf(signed),
    });
  });
});

describe("the chain overrules a guess", () => {
  it("confirms, and tells the owner's socket, a request marked expired whose re-signed transaction then lands", async () => {
    const o = await owner(5_000_000n);
    const socket = await openSocket(o.userPubkey);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    const request = await build("/vault/deposit", { userPubkey: o.userPubkey, amount: 1_500_000 });
    const lastValid = Number(request.lastValidBlockHeight);
    // The wallet signs later with a newer blockhash of its own, then holds the transaction.
    await eventually(async () => ((await rpc<number>("getBlockHeight")) >= lastValid - 100 ? true : undefined));
    const fresher = await latestBlockhash();
    const signed = walletSign(request.unsignedTransaction, { blockhash: fresher.blockhash }, o.wallet);
    // The request's own blockhash runs out: a status read says expired (a guess: nothing it knows of landed).
    await eventually(async () => ((await status(request.transactionId)).status === "expired" ? true : undefined));
    const signature = await sendFromWallet(signed);
    await confirmed(signature, { failOnError: true });
    const done = await ingestedUntil(async () => {
      const s = await status(request.transactionId);
      return s.status === "confirmed" || s.status === "finalized" ? s : undefined;
    });
    expect(done).toMatchObject({ signature, amount: 1500000 });
    await socket.waitFor((m) =>
      m.some((x) => x.event === "transaction_confirmed" && x.data.transactionId === request.transactionId),
    );
    socket.ws.close(1000, "done");
  });
});

describe("one signature, one request", () => {
  it("binds a transaction to one of two identical pending requests, by the documented rule", async () => {
    const o = await owner(10_000_000n);
    const body = { userPubkey: o.userPubkey, amount: 1_000_000 };
    const a = await build("/vault/deposit", { ...body, priorityFee: { computeUnitPrice: 1 } });
    const b = await build("/vault/deposit", { ...body, priorityFee: { computeUnitPrice: 2 } });
    // Signed exactly as built: the request with that very message.
    const signedB = walletSign(b.unsignedTransaction, {}, o.wallet);
    expect(await messageHashOf(signedB)).toBe(b.messageHash);
    const exact = await sendFromWallet(signedB);
    await confirmed(exact, { failOnError: true });
    await ingestedUntil(async () => {
      const sb = await status(b.transactionId);
      if (sb.signature === exact) return true;
      // Reported if the wait runs out: the owner's rows (message hashes included) and the stored transaction.
      throw new Error(
        `b not bound to ${exact}: ${JSON.stringify({ rows: await rowsFor(o.userPubkey), stored: await storedSignature(exact) }, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`,
      );
    });
    expect(await status(a.transactionId)).toMatchObject({ status: "pending", signature: null });
    // Augmented (no exact message): the request built with the transaction's blockhash, else the older one.
    const c = await build("/vault/deposit", { ...body, priorityFee: { computeUnitPrice: 3 } });
    const augmented = await sendFromWallet(
      walletSign(c.unsignedTransaction, { append: [lighthouseAssertion(o.tokenAccount)] }, o.wallet),
    );
    await confirmed(augmented, { failOnError: true });
    // Whichever of the two the ingestion binds, it must be the one the rule picks: rank 2 (the transaction's
    // blockhash is c's) decides unless both were built with the same blockhash, then rank 4 (the older: a).
    const expected = a.recentBlockhash === c.recentBlockhash ? a : c;
    const untouched = expected === a ? c : a;
    const bound = await ingestedUntil(async () => {
      const [sa, sc] = [await status(a.transactionId), await status(c.transactionId)];
      if (sa.signature === augmented) return { id: a.transactionId, a: sa, c: sc };
      if (sc.signature === augmented) return { id: c.transactionId, a: sa, c: sc };
      throw new Error(
        `neither bound to ${augmented}: ${JSON.stringify({ a: sa, c: sc, stored: await storedSignature(augmented) })}`,
      );
    });
    expect(
      bound.id,
      JSON.stringify({ aBlockhash: a.recentBlockhash, cBlockhash: c.recentBlockhash, a: bound.a, c: bound.c }),
    ).toBe(expected.transactionId);
    expect(await status(untouched.transactionId)).toMatchObject({ signature: null });
  }, 300_000);

  it("refuses to attach one signed transaction to a second request, by relay or by report", async () => {
    const o = await owner(10_000_000n);
    const body = { userPubkey: o.userPubkey, amount: 1_000_000 };
    const a = await build("/vault/deposit", { ...body, priorityFee: { computeUnitPrice: 11 } });
    const b = await build("/vault/deposit", { ...body, priorityFee: { computeUnitPrice: 12 } });
    const signed = walletSign(a.unsignedTransaction, {}, o.wallet);
    const first = await postJson("/vault/submit", { signedTransaction: signed, transactionId: a.transactionId });
    expect(first.status).toBe(202);
    const again = await postJson("/vault/submit", { signedTransaction: signed, transactionId: b.transactionId });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "TRANSACTION_MISMATCH",
      details: { transactionId: a.transactionId },
    });
    const reported = await postJson("/vault/submit", {
      signature: signatureOf(signed),
      transactionId: b.transactionId,
    });
    expect(reported.status).toBe(409);
    await waitForStatus(a.transactionId, "confirmed", "finalized");
    expect(await status(b.transactionId)).toMatchObject({
      status: "pending",
      signature: null,
      reportedSignature: null,
    });
  });
});
