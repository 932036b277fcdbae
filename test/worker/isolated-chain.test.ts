/**
 * Refusals that need global program state changed (pause) or an unusual vault (another mint), on a second localnet
 * so the other test files never see them. The Worker is pointed at that chain per request.
 */

import { createInitializeMint2Instruction, MINT_SIZE } from "@solana/spl-token";
import { Keypair, PublicKey, SystemProgram, type TransactionInstruction } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import { initializeVaultIx, setPausedIx, TOKEN_PROGRAM_ID } from "../../src/chain/program/index.ts";
import { confirmed, rpcAt, sendSigned } from "./chain.ts";
import { callWithEnv } from "./helpers.ts";

const chainEnv = () => ({ SOLANA_RPC_URL: inject("isolatedRpcUrl"), SOLANA_WS_URL: undefined as unknown as string });

const isolatedRpc = <T>(method: string, params: unknown[]) => rpcAt<T>(inject("isolatedRpcUrl"), method, params);

async function fund(address: PublicKey, usdt?: bigint) {
  await fetch(`${inject("isolatedRpcUrl")}/localnet/fund`, {
    method: "POST",
    body: JSON.stringify({
      address: address.toBase58(),
      lamports: "2000000000",
      ...(usdt ? { usdt: usdt.toString() } : {}),
    }),
  });
}

async function sendAndConfirm(ixs: TransactionInstruction[], signers: Keypair[]) {
  const url = inject("isolatedRpcUrl");
  await confirmed(await sendSigned(ixs, signers, { url }), { url, failOnError: true });
}

const post = (path: string, body: unknown) =>
  callWithEnv(chainEnv(), path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("refusals that need their own chain", () => {
  it("refuses a deposit into a vault bound to another mint (program bug §8.5)", async () => {
    const programId = new PublicKey(inject("programId"));
    const user = Keypair.generate();
    await fund(user.publicKey, 5_000_000n);
    const otherMint = Keypair.generate();
    const rent = await isolatedRpc<number>("getMinimumBalanceForRentExemption", [MINT_SIZE]);
    await sendAndConfirm(
      [
        SystemProgram.createAccount({
          fromPubkey: user.publicKey,
          newAccountPubkey: otherMint.publicKey,
          lamports: rent,
          space: MINT_SIZE,
          programId: TOKEN_PROGRAM_ID,
        }),
        createInitializeMint2Instruction(otherMint.publicKey, 6, user.publicKey, null),
        initializeVaultIx({ programId, user: user.publicKey, mint: otherMint.publicKey }),
      ],
      [user, otherMint],
    );
    const { status, body } = await post("/vault/deposit", { userPubkey: user.publicKey.toBase58(), amount: 1_000_000 });
    expect(status).toBe(409);
    expect(body.error?.code).toBe("VAULT_MINT_MISMATCH");
  });

  it("refuses deposits and withdrawals while the program is paused, and builds them again once unpaused", async () => {
    const programId = new PublicKey(inject("programId"));
    const admin = Keypair.fromSecretKey(Uint8Array.from(inject("isolatedAdminSecret")));
    await fund(admin.publicKey);
    const user = Keypair.generate();
    await fund(user.publicKey, 5_000_000n);
    await sendAndConfirm(
      [initializeVaultIx({ programId, user: user.publicKey, mint: new PublicKey(inject("usdtMint")) })],
      [user],
    );

    await sendAndConfirm([setPausedIx({ programId, admin: admin.publicKey, paused: true })], [admin]);
    try {
      for (const path of ["/vault/deposit", "/vault/withdraw"]) {
        const { status, body } = await post(path, { userPubkey: user.publicKey.toBase58(), amount: 1 });
        expect(status, path).toBe(409);
        expect(body.error?.code, path).toBe("PROGRAM_PAUSED");
      }
    } finally {
      await sendAndConfirm([setPausedIx({ programId, admin: admin.publicKey, paused: false })], [admin]);
    }
    const { status } = await post("/vault/deposit", { userPubkey: user.publicKey.toBase58(), amount: 1_000_000 });
    expect(status).toBe(200);
  });
});
