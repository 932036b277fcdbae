import { createAssociatedTokenAccountIdempotentInstruction } from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { findVaultAddress, TOKEN_PROGRAM_ID, vaultTokenAccountAddress } from "../../src/chain/program/index.ts";
import { eventually } from "../eventually.ts";
import { confirmed, fundedWallet, sendSigned, signBase64 } from "./chain.ts";
import { call, postJson } from "./helpers.ts";

/** Initializes a vault through the API and waits until the chain has it. */
async function vaultWith(depositUsdt: bigint): Promise<Keypair> {
  const wallet = await fundedWallet({ usdt: depositUsdt + 10_000_000n });
  const userPubkey = wallet.publicKey.toBase58();
  for (const [path, body] of [
    ["/vault/initialize", { userPubkey }],
    ...(depositUsdt > 0n ? [["/vault/deposit", { userPubkey, amount: depositUsdt.toString() }]] : []),
  ] as [string, Record<string, string>][]) {
    const built = await postJson(path, body);
    expect(built.status, JSON.stringify(built.body)).toBe(200);
    const data = built.body.data as Record<string, string>;
    await postJson("/vault/submit", { signedTransaction: signBase64(data.unsignedTransaction!, wallet) });
    await eventually(async () => {
      const { body: s } = await call(`/transactions/${data.transactionId}`);
      return s.data?.status === "confirmed" || s.data?.status === "finalized" ? true : undefined;
    });
  }
  return wallet;
}

describe("build endpoints refuse, with a code, what would fail on chain", () => {
  let owner: Keypair;
  beforeAll(async () => {
    owner = await vaultWith(50_000_000n);
  });

  it("refuses to initialize a vault that already exists", async () => {
    const { status, body } = await postJson("/vault/initialize", { userPubkey: owner.publicKey.toBase58() });
    expect(status).toBe(409);
    expect(body.error?.code).toBe("VAULT_ALREADY_EXISTS");
  });

  it("explains a vault token account pre-created by someone else (program bug §8.4)", async () => {
    const victim = await fundedWallet();
    const attacker = await fundedWallet();
    const mint = new PublicKey(inject("usdtMint"));
    const [vault] = findVaultAddress(new PublicKey(inject("programId")), victim.publicKey);
    const ata = vaultTokenAccountAddress(vault, mint);
    await confirmed(
      await sendSigned(
        [createAssociatedTokenAccountIdempotentInstruction(attacker.publicKey, ata, vault, mint, TOKEN_PROGRAM_ID)],
        [attacker],
      ),
    );
    const { status, body } = await postJson("/vault/initialize", { userPubkey: victim.publicKey.toBase58() });
    expect(status).toBe(409);
    expect(body.error?.code).toBe("VAULT_TOKEN_ACCOUNT_EXISTS");
    expect(body.error?.message).toContain("§8.4");
  });

  it("refuses a deposit or withdrawal for an owner without a vault", async () => {
    const stranger = Keypair.generate().publicKey.toBase58();
    const { status, body } = await postJson("/vault/deposit", { userPubkey: stranger, amount: 1 });
    expect(status).toBe(404);
    expect(body.error?.code).toBe("VAULT_NOT_FOUND");
  });

  it("refuses an amount of zero", async () => {
    const { status, body } = await postJson("/vault/deposit", { userPubkey: owner.publicKey.toBase58(), amount: 0 });
    expect(status).toBe(400);
    expect(body.error?.code).toBe("INVALID_AMOUNT");
  });

  it("refuses a withdrawal above the available balance", async () => {
    const { status, body } = await postJson("/vault/withdraw", {
      userPubkey: owner.publicKey.toBase58(),
      amount: 50_000_001,
    });
    expect(status).toBe(422);
    expect(body.error?.code).toBe("INSUFFICIENT_AVAILABLE_BALANCE");
  });

  it("refuses a deposit above the wallet's token balance", async () => {
    const { status, body } = await postJson("/vault/deposit", {
      userPubkey: owner.publicKey.toBase58(),
      amount: "10000001",
    });
    expect(status).toBe(422);
    expect(body.error?.code).toBe("INSUFFICIENT_TOKEN_BALANCE");
  });

  it("refuses when the payer lacks SOL for rent and fee", async () => {
    const poor = Keypair.generate().publicKey.toBase58();
    const { status, body } = await postJson("/vault/initialize", { userPubkey: poor });
    expect(status).toBe(422);
    expect(body.error?.code).toBe("INSUFFICIENT_SOL");
  });

  it("names the field for malformed input and never rounds an amount", async () => {
    const cases: [unknown, string, string][] = [
      [{ userPubkey: "not-base58!", amount: 1 }, "INVALID_PUBKEY", "userPubkey"],
      [{ userPubkey: owner.publicKey.toBase58(), amount: 1.5 }, "INVALID_AMOUNT", "amount"],
      [{ userPubkey: owner.publicKey.toBase58(), amount: -3 }, "INVALID_AMOUNT", "amount"],
      [{ userPubkey: owner.publicKey.toBase58(), amount: 2 ** 60 }, "INVALID_AMOUNT", "amount"],
      [{ userPubkey: owner.publicKey.toBase58(), amount: "18446744073709551616" }, "INVALID_AMOUNT", "amount"],
      [{ userPubkey: owner.publicKey.toBase58(), amount: "1e6" }, "INVALID_AMOUNT", "amount"],
      [{ userPubkey: owner.publicKey.toBase58() }, "VALIDATION_FAILED", "amount"],
      [{ userPubkey: owner.publicKey.toBase58(), amount: 1, extra: true }, "VALIDATION_FAILED", "extra"],
    ];
    for (const [body, code, field] of cases) {
      const res = await postJson("/vault/deposit", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.code, JSON.stringify(body)).toBe(code);
      expect(res.body.error?.details?.field, JSON.stringify(body)).toBe(field);
    }
    const big = await postJson("/vault/deposit", { userPubkey: owner.publicKey.toBase58(), amount: 2 ** 60 });
    expect(big.body.error?.message).toContain("decimal string");
  });

  it("answers malformed JSON and wrong content types in the envelope", async () => {
    const bad = await postJson("/vault/deposit", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe("INVALID_JSON");
    const text = await call("/vault/deposit", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hi",
    });
    expect(text.status).toBe(415);
    expect(text.body.error?.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });
});

describe("idempotency", () => {
  it("replays the same response for the same key and body, and refuses the key with another body", async () => {
    const wallet = await fundedWallet({ usdt: 5_000_000n });
    const userPubkey = wallet.publicKey.toBase58();
    const key = `test-${crypto.randomUUID()}`;
    const first = await postJson("/vault/initialize", { userPubkey }, { "idempotency-key": key });
    const again = await postJson("/vault/initialize", { userPubkey }, { "idempotency-key": key });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    const other = await postJson(
      "/vault/initialize",
      { userPubkey, priorityFee: { computeUnitPrice: 7 } },
      { "idempotency-key": key },
    );
    expect(other.status).toBe(422);
    expect(other.body.error?.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });
});
