/**
 * The attacks of issue 12, as an anonymous client would run them: each must change nothing the chain did not do.
 */
import { createAssociatedTokenAccountIdempotentInstruction } from "@solana/spl-token";
import { type Keypair, type PublicKey, SystemProgram, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import {
  associatedTokenAddress,
  decodeCollateralVault,
  depositIx,
  findVaultAddress,
  lockCollateralIx,
  setPausedIx,
  transferCollateralIx,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet, rpc } from "./chain.ts";
import { build, buildSignRelay, waitForStatus } from "./flow.ts";
import { call, postJson } from "./helpers.ts";
import { ingestPass, programId, usdtMint, walletWithVault } from "./ingest-support.ts";
import { latestBlockhash, rowsFor, signatureOf } from "./wallet.ts";

/** A vault owner set up through the API (initialize, deposit): the victim. */
async function victim(deposit: bigint) {
  const wallet = await fundedWallet({ usdt: deposit * 2n });
  const userPubkey = wallet.publicKey.toBase58();
  await buildSignRelay("/vault/initialize", { userPubkey }, [wallet]);
  const depositRequest = await buildSignRelay("/vault/deposit", { userPubkey, amount: deposit.toString() }, [wallet]);
  const [vault] = findVaultAddress(programId(), wallet.publicKey);
  return { wallet, owner: userPubkey, vault, vaultToken: vaultTokenAccountAddress(vault, usdtMint()), depositRequest };
}

/** A deposit of one base unit into the wallet's own vault (signed by its user). */
function oneUnitDeposit(v: { wallet: Keypair; vaultToken: PublicKey }) {
  return depositIx({
    programId: programId(),
    user: v.wallet.publicKey,
    userTokenAccount: associatedTokenAddress(v.wallet.publicKey, usdtMint()),
    vaultTokenAccount: v.vaultToken,
    amount: 1n,
  });
}

/** Signs instructions with `signers` (first pays) and base64-encodes them, without sending. */
async function signed(ixs: TransactionInstruction[], signers: Keypair[]): Promise<string> {
  const { blockhash, lastValidBlockHeight } = await latestBlockhash();
  const tx = new Transaction({ feePayer: signers[0]!.publicKey, blockhash, lastValidBlockHeight }).add(...ixs);
  tx.sign(...signers);
  return btoa(String.fromCharCode(...tx.serialize()));
}

/**
 * What a refused relay must leave alone: the owner's rows (ingestion and finalization may still move earlier ones,
 * so rows are compared by id) and any row bound to, or reporting, the refused transaction.
 */
async function untouched(owner: string, wire: string, before: string[]) {
  const rows = await rowsFor(owner, signatureOf(wire));
  expect(rows.map((r) => r.id).sort()).toEqual(before);
  expect(rows.filter((r) => r.signature === signatureOf(wire) || r.claimedSignature === signatureOf(wire))).toEqual([]);
}

async function ids(owner: string): Promise<string[]> {
  return (await rowsFor(owner)).map((r) => r.id).sort();
}

async function vaultState(vault: PublicKey) {
  const info = await rpc<{ value: { data: [string, string] } }>("getAccountInfo", [
    vault.toBase58(),
    { encoding: "base64", commitment: "confirmed" },
  ]);
  return decodeCollateralVault(Uint8Array.from(atob(info.value.data[0]), (c) => c.charCodeAt(0)));
}

describe("status forgery: a request follows only its own transaction", () => {
  it("refuses another request's landed signature for a request built for the same owner, which stays pending", async () => {
    const v = await victim(3_000_000n);
    const s = (await waitForStatus(v.depositRequest.transactionId, "confirmed", "finalized")).signature as string;
    // Anyone can build a request for any owner, and request ids are public (the history lists them).
    const forged = await build("/vault/deposit", { userPubkey: v.owner, amount: 3_000_000 });
    const res = await postJson("/vault/submit", { signature: s, transactionId: forged.transactionId });
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe("TRANSACTION_MISMATCH");
    const { body } = await call(`/transactions/${forged.transactionId}`);
    expect(body.data).toMatchObject({ status: "pending", signature: null, reportedSignature: null });
  });

  it("accepts a signature landed without any request only as unverified, rejects it once read, and never confirms", async () => {
    const v = await walletWithVault(2_000_000n);
    // Ingested as a chain row, as the Ingestor's loop does in production.
    await ingestPass();
    const forged = await build("/vault/deposit", { userPubkey: v.owner, amount: 1_000_000 });
    const res = await postJson("/vault/submit", { signature: v.depositSig, transactionId: forged.transactionId });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({
      status: "pending",
      signature: null,
      reportedSignature: { signature: v.depositSig, status: "unverified" },
    });
    const rejected = await eventually(async () => {
      const { body } = await call(`/transactions/${forged.transactionId}`);
      const reported = body.data?.reportedSignature as { status: string } | null;
      return reported?.status === "rejected" ? body.data : undefined;
    });
    expect(rejected).toMatchObject({ status: "pending", signature: null });
    expect((rejected.reportedSignature as { reason: string }).reason).toMatch(/already recorded/);
    // The owner's history still shows one deposit, the one the chain did.
    const history = await call(`/vault/transactions/${v.owner}?type=deposit`);
    const confirmedDeposits = (history.body.data!.transactions as { status: string }[]).filter(
      (t) => t.status === "confirmed" || t.status === "finalized",
    );
    expect(confirmedDeposits).toHaveLength(1);
  });
});

describe("the relay never helps a theft", () => {
  it("refuses a transfer out of a victim's vault signed by a throw-away key, and nothing is written or sent", async () => {
    const v = await victim(5_000_000n);
    const thief = await walletWithVault(0n);
    const before = await vaultState(v.vault);
    const wire = await signed(
      [
        transferCollateralIx({
          programId: programId(),
          authority: thief.wallet.publicKey,
          fromVault: v.vault,
          fromTokenAccount: v.vaultToken,
          toVault: thief.vault,
          toTokenAccount: thief.vaultToken,
          amount: 5_000_000n,
          reason: "settlement",
        }),
      ],
      [thief.wallet],
    );
    const rowsBefore = await ids(v.owner);
    const res = await postJson("/vault/submit", { signedTransaction: wire });
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe("AUTHORITY_NOT_AUTHORIZED");
    await untouched(v.owner, wire, rowsBefore);
    expect(await vaultState(v.vault)).toEqual(before);
    expect(await rpc("getSignatureStatuses", [[signatureOf(wire)], { searchTransactionHistory: true }])).toMatchObject({
      value: [null],
    });
  });

  it("refuses a self-transfer, which would inflate the vault (program bug §8.2)", async () => {
    const v = await victim(1_000_000n);
    const stranger = await fundedWallet();
    const wire = await signed(
      [
        transferCollateralIx({
          programId: programId(),
          authority: stranger.publicKey,
          fromVault: v.vault,
          fromTokenAccount: v.vaultToken,
          toVault: v.vault,
          toTokenAccount: v.vaultToken,
          amount: 1_000_000n,
          reason: "settlement",
        }),
      ],
      [stranger],
    );
    const rowsBefore = await ids(v.owner);
    const res = await postJson("/vault/submit", { signedTransaction: wire });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "INSTRUCTION_NOT_ALLOWED", details: { reason: "self_transfer" } });
    await untouched(v.owner, wire, rowsBefore);
    expect((await vaultState(v.vault)).totalBalance).toBe(1_000_000n);
  });

  it("refuses a lock on a victim's vault by a key missing from the authorized list", async () => {
    const v = await victim(2_000_000n);
    const stranger = await fundedWallet();
    const wire = await signed(
      [lockCollateralIx({ programId: programId(), authority: stranger.publicKey, vault: v.vault, amount: 2_000_000n })],
      [stranger],
    );
    const res = await postJson("/vault/submit", { signedTransaction: wire });
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe("AUTHORITY_NOT_AUTHORIZED");
    expect((await vaultState(v.vault)).lockedBalance).toBe(0n);
  });

  it("refuses to create a vault's token account before its owner initializes it (program bug §8.4)", async () => {
    const future = (await fundedWallet()).publicKey;
    const [futureVault] = findVaultAddress(programId(), future);
    const attacker = await walletWithVault(1_000_000n);
    const wire = await signed(
      [
        createAssociatedTokenAccountIdempotentInstruction(
          attacker.wallet.publicKey,
          vaultTokenAccountAddress(futureVault, usdtMint()),
          futureVault,
          usdtMint(),
        ),
        oneUnitDeposit(attacker),
      ],
      [attacker.wallet],
    );
    const res = await postJson("/vault/submit", { signedTransaction: wire });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({
      code: "INSTRUCTION_NOT_ALLOWED",
      details: { reason: "vault_token_account_creation", instructionIndex: 0 },
    });
    // The owner can still create the vault.
    const init = await postJson("/vault/initialize", { userPubkey: future.toBase58() });
    expect(init.status).toBe(200);
  });

  it("refuses admin instructions, a deposit its user did not sign, and other programs", async () => {
    const stranger = await fundedWallet();
    const pause = await signed(
      [setPausedIx({ programId: programId(), admin: stranger.publicKey, paused: true })],
      [stranger],
    );
    const paused = await postJson("/vault/submit", { signedTransaction: pause });
    expect(paused.status).toBe(403);
    expect(paused.body.error).toMatchObject({
      code: "INSTRUCTION_NOT_ALLOWED",
      details: { reason: "admin_instruction" },
    });

    const v = await walletWithVault(1_000_000n);
    const unsignedUser = oneUnitDeposit(v);
    unsignedUser.keys[0]!.isSigner = false;
    const notSigned = await postJson("/vault/submit", { signedTransaction: await signed([unsignedUser], [stranger]) });
    expect(notSigned.status).toBe(403);
    expect(notSigned.body.error).toMatchObject({ details: { reason: "user_not_signer" } });

    const withTransfer = await signed(
      [
        SystemProgram.transfer({ fromPubkey: v.wallet.publicKey, toPubkey: stranger.publicKey, lamports: 1_000 }),
        oneUnitDeposit(v),
      ],
      [v.wallet],
    );
    const other = await postJson("/vault/submit", { signedTransaction: withTransfer });
    expect(other.status).toBe(400);
    expect(other.body.error?.code).toBe("PROGRAM_NOT_ALLOWED");
  });
});

describe("exact u64 JSON", () => {
  it("returns a client's field name that looks like an encoder marker as that very string", async () => {
    const owner = (await fundedWallet()).publicKey.toBase58();
    const res = await postJson("/vault/deposit", `{"userPubkey":"${owner}","amount":1,"\\u0000123\\u0000":1}`);
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe("VALIDATION_FAILED");
    expect(res.body.error?.details?.field).toBe("\u0000123\u0000");
    expect(res.body.error?.message).toContain("\u0000123\u0000");
  });
});
