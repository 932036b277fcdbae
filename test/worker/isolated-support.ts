/**
 * The second localnet (isolated chain): only the files that use it send transactions there, so a test can ingest
 * it with a stream of its own and count exactly. Same program id and USDT mint as the shared chain.
 */

import { env } from "cloudflare:workers";
import { Keypair, type PublicKey, type TransactionInstruction } from "@solana/web3.js";
import { inject } from "vitest";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
  lockCollateralIx,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import type { Bindings } from "../../src/env.ts";
import { eventually } from "../eventually.ts";
import { confirmed, rpcAt, sendSigned } from "./chain.ts";
import { programId, usdtMint } from "./ingest-support.ts";

export const isolatedUrl = () => inject("isolatedRpcUrl");

/** The Worker's bindings pointed at the isolated chain. */
export const isolatedEnv = () =>
  ({ ...env, SOLANA_RPC_URL: isolatedUrl(), SOLANA_WS_URL: undefined }) as unknown as Bindings;

/** Funds an address on the isolated chain (2 SOL, and `usdt` base units when given). */
export async function fundIsolated(address: PublicKey, usdt = 0n): Promise<void> {
  const res = await fetch(`${isolatedUrl()}/localnet/fund`, {
    method: "POST",
    body: JSON.stringify({
      address: address.toBase58(),
      lamports: "2000000000",
      ...(usdt > 0n ? { usdt: usdt.toString() } : {}),
    }),
  });
  if (!res.ok) throw new Error(`isolated fund: ${res.status} ${await res.text()}`);
  await res.text();
}

/**
 * Signs, sends and waits for confirmation on the isolated chain; a failed transaction throws. isolated-chain.test.ts
 * pauses the program there for a moment: a transaction refused with VaultPaused (12032) is sent again once a new
 * blockhash makes it a new transaction.
 */
export async function sendIsolated(ixs: TransactionInstruction[], signers: Keypair[]): Promise<string> {
  return eventually(
    async () => {
      const sig = await sendSigned(ixs, signers, { url: isolatedUrl() });
      await confirmed(sig, { url: isolatedUrl(), failOnError: true });
      return sig;
    },
    {
      timeoutMs: 30_000,
      everyMs: 500,
      what: "the program to unpause",
      retryOn: (err) => String(err).includes("12032"),
    },
  );
}

/**
 * A funded vault on the isolated chain and `locks` locks of 1, 2, … base units by another key; their signatures.
 * `ordered`: each lock confirmed before the next is sent (chain order = amount order); otherwise they are sent
 * back to back and confirmed together, faster.
 */
export async function isolatedVaultWithLocks(locks: number, opts: { ordered?: boolean } = { ordered: true }) {
  const user = Keypair.generate();
  await fundIsolated(user.publicKey, 10_000_000n);
  const [vault] = findVaultAddress(programId(), user.publicKey);
  await sendIsolated([initializeVaultIx({ programId: programId(), user: user.publicKey, mint: usdtMint() })], [user]);
  const userTokenAccount = associatedTokenAddress(user.publicKey, usdtMint());
  const vaultTokenAccount = vaultTokenAccountAddress(vault, usdtMint());
  await sendIsolated(
    [
      depositIx({
        programId: programId(),
        user: user.publicKey,
        userTokenAccount,
        vaultTokenAccount,
        amount: 10_000_000n,
      }),
    ],
    [user],
  );
  const signer = Keypair.generate();
  await fundIsolated(signer.publicKey);
  const lock = (i: number) =>
    lockCollateralIx({ programId: programId(), authority: signer.publicKey, vault, amount: BigInt(i) });
  const signatures: string[] = [];
  if (opts.ordered) {
    for (let i = 1; i <= locks; i++) signatures.push(await sendIsolated([lock(i)], [signer]));
  } else {
    const sent = [];
    for (let i = 1; i <= locks; i++) sent.push(await sendSigned([lock(i)], [signer], { url: isolatedUrl() }));
    for (const [i, sig] of sent.entries()) {
      // One refused during a pause is sent again (out of order, which this mode allows).
      signatures.push(
        await confirmed(sig, { url: isolatedUrl(), failOnError: true }).then(
          () => sig,
          () => sendIsolated([lock(i + 1)], [signer]),
        ),
      );
    }
  }
  return { owner: user.publicKey.toBase58(), vault, locks: signatures };
}

/** Every program signature on the isolated chain, newest first. */
export async function isolatedSignatures(): Promise<string[]> {
  const out: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await rpcAt<{ signature: string }[]>(isolatedUrl(), "getSignaturesForAddress", [
      programId().toBase58(),
      { limit: 1000, commitment: "confirmed", ...(before ? { before } : {}) },
    ]);
    out.push(...page.map((p) => p.signature));
    if (page.length < 1000) return out;
    before = page.at(-1)!.signature;
  }
}
