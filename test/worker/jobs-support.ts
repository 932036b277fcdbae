/** Test support for the jobs and monitor tests: chain fixtures on the localnet, the database, job invocations. */

import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createAssociatedTokenAccountIdempotentInstruction, createTransferInstruction } from "@solana/spl-token";
import { Keypair, type PublicKey, SystemProgram, type TransactionInstruction } from "@solana/web3.js";
import bs58 from "bs58";
import { eq } from "drizzle-orm";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
  vaultTokenAccountAddress,
  withdrawIx,
} from "../../src/chain/program/index.ts";
import { vaults } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import worker from "../../src/index.ts";
import { runJobs } from "../../src/jobs/dispatch.ts";
import type { Job } from "../../src/jobs/types.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet, localnetControl, rpc, sendSigned } from "./chain.ts";
import { ingestPass, programId, usdtMint, withDb } from "./ingest-support.ts";

export { programId, usdtMint, withDb };

/** The test Worker's bindings with some variables replaced. */
export function envWith(overrides: Record<string, string> = {}): Bindings {
  return { ...env, ...overrides } as Bindings;
}

/**
 * Runs ingestion passes until the vault cache holds `owner`'s vault as of `slot` or later: the jobs that read the
 * cache (snapshots, low balance, TVL) see what ingestion committed, as in production within the ingestion lag.
 */
export async function cachedAt(owner: string, slot: number): Promise<void> {
  await eventually(async () => {
    await ingestPass();
    const [row] = await withDb((db) => db.select({ slot: vaults.slot }).from(vaults).where(eq(vaults.owner, owner)));
    return row && row.slot >= BigInt(slot) ? true : undefined;
  }, 120_000);
}

/** Runs jobs as the dispatcher does (recorded in job_runs under `trigger`). */
export async function runJobsNow(jobs: Job[], trigger: string, overrides: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  await runJobs(envWith(overrides), ctx, jobs, trigger);
  await waitOnExecutionContext(ctx);
}

/** Fires the Worker's scheduled handler for a cron expression, as Cron Triggers do. */
export async function fireCron(cron: string, overrides: Record<string, string> = {}) {
  const controller = createScheduledController({ scheduledTime: new Date(), cron });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, envWith(overrides), ctx);
  await waitOnExecutionContext(ctx);
}

/** Signs and sends a transaction straight to the localnet (no backend involved). */
export function sendRaw(ixs: TransactionInstruction[], signers: Keypair[]): Promise<string> {
  return sendSigned(ixs, signers, { skipPreflight: true });
}

class TransactionFailed extends Error {}

/** Waits until every signature is confirmed without error; returns the highest slot. */
export async function confirmAll(signatures: string[]): Promise<number> {
  let slot = 0;
  for (let i = 0; i < signatures.length; i += 256) {
    const chunk = signatures.slice(i, i + 256);
    const statuses = await eventually(
      async () => {
        const { value } = await rpc<{ value: ({ slot: number; err: unknown; confirmationStatus: string } | null)[] }>(
          "getSignatureStatuses",
          // Like a real node, the localnet answers from its recent-status cache (150 slots) unless asked to search.
          [chunk, { searchTransactionHistory: true }],
        );
        const failed = value.find((s) => s?.err);
        if (failed) throw new TransactionFailed(`transaction failed: ${JSON.stringify(failed.err)}`);
        return value.every((s) => s && s.confirmationStatus !== "processed") ? value : undefined;
      },
      // Generous: with every test file sending transactions at once, the shared localnet's slots slow down.
      { timeoutMs: 150_000, everyMs: 100, what: "confirmation", retryOn: (e) => !(e instanceof TransactionFailed) },
    );
    slot = Math.max(slot, ...statuses.map((s) => s!.slot));
  }
  return slot;
}

export interface TestVault {
  wallet: Keypair;
  owner: string;
  vaultAddress: string;
  tokenAccount: PublicKey;
  /** Slot at which the creating transaction was confirmed. */
  slot: number;
}

/** A fresh wallet whose vault was initialized and funded with `deposit` directly on chain. */
export async function createVault(deposit: bigint): Promise<TestVault> {
  const wallet = await fundedWallet({ usdt: deposit });
  const user = wallet.publicKey;
  const [vault] = findVaultAddress(programId(), user);
  const tokenAccount = vaultTokenAccountAddress(vault, usdtMint());
  const ixs = [initializeVaultIx({ programId: programId(), user, mint: usdtMint() })];
  if (deposit > 0n) {
    const userTokenAccount = associatedTokenAddress(user, usdtMint());
    ixs.push(
      depositIx({ programId: programId(), user, userTokenAccount, vaultTokenAccount: tokenAccount, amount: deposit }),
    );
  }
  const slot = await confirmAll([await sendRaw(ixs, [wallet])]);
  return { wallet, owner: user.toBase58(), vaultAddress: vault.toBase58(), tokenAccount, slot };
}

/** Deposits more into an existing test vault. */
export async function depositMore(v: TestVault, amount: bigint): Promise<number> {
  await localnetControl("fund", { address: v.owner, usdt: amount.toString() });
  const userTokenAccount = associatedTokenAddress(v.wallet.publicKey, usdtMint());
  const ix = depositIx({
    programId: programId(),
    user: v.wallet.publicKey,
    userTokenAccount,
    vaultTokenAccount: v.tokenAccount,
    amount,
  });
  return confirmAll([await sendRaw([ix], [v.wallet])]);
}

/** Withdraws from a test vault back to its owner's token account, straight on chain; returns the slot. */
export async function withdrawFrom(v: TestVault, amount: bigint): Promise<number> {
  const ix = withdrawIx({
    programId: programId(),
    user: v.wallet.publicKey,
    userTokenAccount: associatedTokenAddress(v.wallet.publicKey, usdtMint()),
    vaultTokenAccount: v.tokenAccount,
    amount,
  });
  return confirmAll([await sendRaw([ix], [v.wallet])]);
}

/** Sends USDT straight to a vault's token account (a plain SPL transfer the program never sees). */
export async function donate(to: PublicKey, amount: bigint): Promise<number> {
  const donor = await fundedWallet({ usdt: amount });
  const from = associatedTokenAddress(donor.publicKey, usdtMint());
  const ixs = [
    createAssociatedTokenAccountIdempotentInstruction(donor.publicKey, from, donor.publicKey, usdtMint()),
    createTransferInstruction(from, to, donor.publicKey, amount),
  ];
  return confirmAll([await sendRaw(ixs, [donor])]);
}

/** What initialize_vault costs the user: the vault's and its ATA's rent, plus a rent-exempt remainder. */
const VAULT_CREATION_LAMPORTS = 1_733_040 + 2_039_280 + 1_000_000;
const VAULTS_PER_TX = 4;

/**
 * Creates `count` empty vaults quickly: one funder pays fees and hands each fresh wallet its rent in the same
 * transaction as its initialize_vault (four wallets per transaction, the most that fits in 1,232 bytes).
 */
export async function createManyVaults(count: number): Promise<string[]> {
  const funder = await fundedWallet({ lamports: BigInt(count * VAULT_CREATION_LAMPORTS + 2_000_000_000) });
  const owners: string[] = [];
  const signatures: string[] = [];
  for (let i = 0; i < count; i += VAULTS_PER_TX) {
    const users = Array.from({ length: Math.min(VAULTS_PER_TX, count - i) }, () => Keypair.generate());
    const ixs = users.flatMap((u) => [
      SystemProgram.transfer({
        fromPubkey: funder.publicKey,
        toPubkey: u.publicKey,
        lamports: VAULT_CREATION_LAMPORTS,
      }),
      initializeVaultIx({ programId: programId(), user: u.publicKey, mint: usdtMint() }),
    ]);
    signatures.push(await sendRaw(ixs, [funder, ...users]));
    owners.push(...users.map((u) => u.publicKey.toBase58()));
  }
  await confirmAll(signatures);
  return owners;
}

interface ProgramAccount {
  pubkey: string;
  account: { data: [string, string] };
}

/** Reads every vault on chain (full data) the way a test checks the backend: straight from the localnet. */
export async function chainVaults(): Promise<{ address: string; data: Uint8Array }[]> {
  const accounts = await rpc<ProgramAccount[]>("getProgramAccounts", [
    programId().toBase58(),
    {
      encoding: "base64",
      commitment: "confirmed",
      filters: [{ dataSize: 121 }, { memcmp: { offset: 0, bytes: "4JW1hBZa91A" } }],
    },
  ]);
  return accounts.map((a) => ({
    address: a.pubkey,
    data: Uint8Array.from(atob(a.account.data[0]), (c) => c.charCodeAt(0)),
  }));
}

/**
 * TVL as a test computes it from the chain: vaults whose token account holds the test USDT, each counted with the
 * part of its recorded total its token account holds (`total`); `recorded` sums the recorded totals.
 */
export async function chainTvl() {
  const vaults = await chainVaults();
  const view = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset, d.byteLength);
  const tokenKeys = vaults.map((v) => bs58.encode(v.data.subarray(40, 72)));
  const tokens = new Map<string, { mint: string; amount: bigint } | null>();
  for (let i = 0; i < tokenKeys.length; i += 100) {
    const chunk = tokenKeys.slice(i, i + 100);
    const { value } = await rpc<{ value: ({ data: [string, string] } | null)[] }>("getMultipleAccounts", [
      chunk,
      { encoding: "base64", commitment: "confirmed" },
    ]);
    for (const [j, k] of chunk.entries()) {
      const a = value[j];
      if (!a) {
        tokens.set(k, null);
        continue;
      }
      const d = Uint8Array.from(atob(a.data[0]), (c) => c.charCodeAt(0));
      tokens.set(k, { mint: bs58.encode(d.subarray(0, 32)), amount: view(d).getBigUint64(64, true) });
    }
  }
  let total = 0n;
  let recorded = 0n;
  let tokenTotal = 0n;
  let active = 0;
  vaults.forEach((v, i) => {
    const token = tokens.get(tokenKeys[i]!);
    if (token?.mint !== usdtMint().toBase58()) return;
    active++;
    const vaultTotal = view(v.data).getBigUint64(72, true);
    // Math.min does not take bigints: the backed part is what the token account holds, at most the recorded total.
    total += vaultTotal - (vaultTotal > token.amount ? vaultTotal - token.amount : 0n);
    recorded += vaultTotal;
    tokenTotal += token.amount;
  });
  return { total, recorded, tokenTotal, active };
}
