/**
 * The vault program model running inside the localnet, driven through web3.js: CPIs into the real ATA/Token
 * programs with validator-style nested logs, inner instructions, events, rollback on failure.
 */
import { getAccount, getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { Connection, Keypair, LAMPORTS_PER_SOL, sendAndConfirmTransaction, Transaction } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Localnet } from "../../dev/localnet/index.ts";
import { startLocalnet } from "../../dev/localnet/index.ts";
import {
  decodeCollateralVault,
  decodeVaultAuthority,
  depositIx,
  findVaultAddress,
  findVaultAuthorityAddress,
  initializeVaultIx,
} from "../../src/chain/program/index.ts";

const TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
let net: Localnet;
let connection: Connection;
const user = Keypair.generate();
let vault: PublicKey;
let vaultAta: PublicKey;
let userAta: PublicKey;

async function settle(signature: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = (await connection.getSignatureStatus(signature)).value?.confirmationStatus;
    if (s === "confirmed" || s === "finalized") return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  net = await startLocalnet({ port: 0, slotMs: 50, finalityDepth: 3, quiet: true });
  connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
  const funded = await net.fund(user.publicKey, { lamports: BigInt(LAMPORTS_PER_SOL), usdt: 10_000_000n });
  userAta = getAssociatedTokenAddressSync(net.usdtMint, user.publicKey);
  expect(funded.ata).toBe(userAta.toBase58());
  [vault] = findVaultAddress(net.programId, user.publicKey);
  vaultAta = getAssociatedTokenAddressSync(net.usdtMint, vault, true);
});

afterAll(async () => {
  await net?.close();
});

describe("the vault program model on the localnet", () => {
  it("starts with the VaultAuthority initialized by the local admin and the USDT mint in place", async () => {
    const [authority] = findVaultAuthorityAddress(net.programId);
    const info = await connection.getAccountInfo(authority);
    expect(info?.owner.toBase58()).toBe(net.programId.toBase58());
    expect(decodeVaultAuthority(info!.data).admin.toBase58()).toBe(net.admin.publicKey.toBase58());
    const program = await connection.getAccountInfo(net.programId);
    expect(program?.executable).toBe(true);
    const mint = await connection.getParsedAccountInfo(net.usdtMint);
    expect(mint.value?.data).toMatchObject({ program: "spl-token", parsed: { type: "mint", info: { decimals: 6 } } });
  });

  it("initializes a vault whose ATA is created through nested ATA and System invokes", async () => {
    const tx = new Transaction().add(
      initializeVaultIx({ programId: net.programId, user: user.publicKey, mint: net.usdtMint }),
    );
    const sig = await sendAndConfirmTransaction(connection, tx, [user]);
    await settle(sig);
    const got = await connection.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
    const logs = got?.meta?.logMessages ?? [];
    expect(logs[0]).toBe(`Program ${net.programId.toBase58()} invoke [1]`);
    expect(logs).toContain("Program ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL invoke [2]");
    expect(logs).toContain("Program 11111111111111111111111111111111 invoke [3]");
    expect(logs.at(-1)).toBe(`Program ${net.programId.toBase58()} success`);
    const decoded = decodeCollateralVault((await connection.getAccountInfo(vault))!.data);
    expect(decoded.tokenAccount.toBase58()).toBe(vaultAta.toBase58());
  });

  it("deposits end to end with the Token transfer nested at depth 2 and recorded as an inner instruction", async () => {
    const tx = new Transaction().add(
      depositIx({
        programId: net.programId,
        user: user.publicKey,
        userTokenAccount: userAta,
        vaultTokenAccount: vaultAta,
        amount: 2_500_000n,
      }),
    );
    const sig = await sendAndConfirmTransaction(connection, tx, [user]);
    await settle(sig);
    const got = await connection.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
    const logs = got?.meta?.logMessages ?? [];
    const at = logs.indexOf(`Program ${TOKEN} invoke [2]`);
    expect(at).toBeGreaterThan(0);
    // LiteSVM ships the current (p-token) SPL Token build, which logs no "Instruction: Transfer" line.
    expect(logs.slice(at + 1, at + 3)).toEqual([
      expect.stringMatching(new RegExp(`^Program ${TOKEN} consumed \\d+ of \\d+ compute units$`)),
      `Program ${TOKEN} success`,
    ]);
    expect(logs.some((l) => l.startsWith("Program data: "))).toBe(true);
    const inner = got?.meta?.innerInstructions?.[0]?.instructions ?? [];
    expect(inner.map((i) => got?.transaction.message.staticAccountKeys[i.programIdIndex]?.toBase58())).toEqual([TOKEN]);
    expect((await getAccount(connection, vaultAta)).amount).toBe(2_500_000n);
    const owned = await connection.getProgramAccounts(net.programId, {
      filters: [{ dataSize: 121 }, { memcmp: { offset: 8, bytes: user.publicKey.toBase58() } }],
    });
    expect(owned.map((a) => a.pubkey.toBase58())).toEqual([vault.toBase58()]);
    expect(decodeCollateralVault(owned[0]!.account.data).totalBalance).toBe(2_500_000n);
  });

  it("rolls a failed deposit back, keeps the fee and reports the token program's error", async () => {
    const before = await connection.getBalance(user.publicKey);
    const tx = new Transaction().add(
      depositIx({
        programId: net.programId,
        user: user.publicKey,
        userTokenAccount: userAta,
        vaultTokenAccount: vaultAta,
        amount: 99_000_000n,
      }),
    );
    const sig = await connection.sendTransaction(tx, [user], { skipPreflight: true });
    await settle(sig);
    const got = await connection.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
    expect(got?.meta?.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(got?.meta?.logMessages).toContain(`Program ${TOKEN} failed: custom program error: 0x1`);
    expect(got?.meta?.logMessages?.at(-1)).toMatch(/failed: custom program error: 0x1$/);
    expect(await connection.getBalance(user.publicKey)).toBe(before - 5000);
    expect(decodeCollateralVault((await connection.getAccountInfo(vault))!.data).totalBalance).toBe(2_500_000n);
  });

  it("refuses a zero deposit in preflight with the program's custom error 6000", async () => {
    const tx = new Transaction().add(
      depositIx({
        programId: net.programId,
        user: user.publicKey,
        userTokenAccount: userAta,
        vaultTokenAccount: vaultAta,
        amount: 0n,
      }),
    );
    await expect(sendAndConfirmTransaction(connection, tx, [user])).rejects.toThrow(/custom program error: 0x1770/);
  });
});
