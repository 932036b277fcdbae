import { Keypair, SystemProgram, Transaction } from "@solana/web3.js";
import bs58 from "bs58";
import { describe, expect, it } from "vitest";
import { fundedWallet, localnetControl, rpc, signBase64 } from "./chain.ts";
import { build, buildSignRelay, waitForStatus } from "./flow.ts";
import { call, postJson } from "./helpers.ts";
import { openSocket } from "./ingest-support.ts";

async function vaultOwner(deposit: bigint): Promise<Keypair> {
  const wallet = await fundedWallet({ usdt: deposit });
  const userPubkey = wallet.publicKey.toBase58();
  await buildSignRelay("/vault/initialize", { userPubkey }, [wallet]);
  if (deposit > 0n) await buildSignRelay("/vault/deposit", { userPubkey, amount: deposit.toString() }, [wallet]);
  return wallet;
}

describe("relay and transaction lifecycle", () => {
  it("answers a program failure at once with the error's name and code, and leaves the request as it was", async () => {
    const wallet = await vaultOwner(50_000_000n);
    const userPubkey = wallet.publicKey.toBase58();
    const first = await build("/vault/withdraw", { userPubkey, amount: 40_000_000 });
    const second = await build("/vault/withdraw", { userPubkey, amount: 30_000_000 });
    await postJson("/vault/submit", {
      signedTransaction: signBase64(first.unsignedTransaction, wallet),
      transactionId: first.transactionId,
    });
    await waitForStatus(first.transactionId, "confirmed", "finalized");
    const res = await postJson("/vault/submit", {
      signedTransaction: signBase64(second.unsignedTransaction, wallet),
      transactionId: second.transactionId,
    });
    expect(res.status).toBe(422);
    expect(res.body.error?.code).toBe("TRANSACTION_FAILED");
    expect(res.body.error?.details).toMatchObject({ programError: "InsufficientBalance", programErrorCode: 12010 });
    // A refused relay writes nothing: the request is still the unsigned one it was (the chain never saw it).
    const { body } = await call(`/transactions/${second.transactionId}`);
    expect(body.data).toMatchObject({ status: "pending", signature: null, reportedSignature: null });
  });

  it("follows a transaction the client sent straight to the chain once it posts the signature, up to finalized", async () => {
    const wallet = await vaultOwner(0n);
    await localnetControl("fund", { address: wallet.publicKey.toBase58(), usdt: "7000000" });
    const data = await build("/vault/deposit", { userPubkey: wallet.publicKey.toBase58(), amount: 7_000_000 });
    const signature = await rpc<string>("sendTransaction", [
      signBase64(data.unsignedTransaction, wallet),
      { encoding: "base64" },
    ]);
    const res = await postJson("/vault/submit", { signature, transactionId: data.transactionId });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ status: "pending", reportedSignature: { signature, status: "unverified" } });
    const done = await waitForStatus(data.transactionId, "finalized");
    expect(done).toMatchObject({
      signature,
      status: "finalized",
      amount: 7000000,
      reportedSignature: { signature, status: "verified", reason: null },
    });
  });

  it("marks requests whose blockhash expires as expired, and tells the owner's socket about a tracked one", async () => {
    const wallet = await fundedWallet();
    const owner = wallet.publicKey.toBase58();
    const unsigned = await build("/vault/initialize", { userPubkey: owner });
    // Another owner signs, registers the signature as sent elsewhere, and it never reaches the chain.
    const other = await fundedWallet();
    const lost = await build("/vault/initialize", { userPubkey: other.publicKey.toBase58() });
    const signed = Uint8Array.from(atob(signBase64(lost.unsignedTransaction, other)), (c) => c.charCodeAt(0));
    const signature = bs58.encode(signed.subarray(1, 65));
    const socket = await openSocket(other.publicKey.toBase58());
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    const tracked = await postJson("/vault/submit", { signature, transactionId: lost.transactionId });
    expect(tracked.status).toBe(202);

    await localnetControl("advance", { slots: 160 });
    expect((await waitForStatus(unsigned.transactionId, "expired")).status).toBe("expired");
    await socket.waitFor((m) => m.some((x) => x.event === "transaction_expired"));
    expect(socket.of("transaction_expired")[0]!.data).toEqual({
      transactionId: lost.transactionId,
      owner: other.publicKey.toBase58(),
      transactionType: "initialize",
      type: "initialize",
      status: "expired",
    });
    // The reported signature never landed: it stays an unverified report, never bound to the request.
    const expired = await waitForStatus(lost.transactionId, "expired");
    expect(expired).toMatchObject({ signature: null, reportedSignature: { signature, status: "unverified" } });
    socket.ws.close(1000, "done");
  });

  it("refuses a transaction for another program (never an open relay)", async () => {
    const wallet = await fundedWallet();
    const { value } = await rpc<{ value: { blockhash: string } }>("getLatestBlockhash", [{ commitment: "confirmed" }]);
    const tx = new Transaction({ feePayer: wallet.publicKey, blockhash: value.blockhash, lastValidBlockHeight: 0 });
    tx.add(
      SystemProgram.transfer({ fromPubkey: wallet.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1000 }),
    );
    tx.sign(wallet);
    const res = await postJson("/vault/submit", { signedTransaction: btoa(String.fromCharCode(...tx.serialize())) });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe("PROGRAM_NOT_ALLOWED");
  });

  it("refuses a transaction signed by the wrong key", async () => {
    const wallet = await fundedWallet();
    const data = await build("/vault/initialize", { userPubkey: wallet.publicKey.toBase58() });
    const wire = Uint8Array.from(atob(data.unsignedTransaction), (c) => c.charCodeAt(0));
    const tx = Transaction.from(wire);
    const impostor = Keypair.generate();
    const { ed25519 } = await import("@noble/curves/ed25519");
    // Wire layout: [count=1][64-byte signature][message]; put the impostor's signature in the user's slot.
    wire.set(ed25519.sign(tx.serializeMessage(), impostor.secretKey.slice(0, 32)), 1);
    const res = await postJson("/vault/submit", { signedTransaction: btoa(String.fromCharCode(...wire)) });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe("INVALID_SIGNATURE");
  });
});
