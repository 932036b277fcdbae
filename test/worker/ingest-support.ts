/** Test-side helpers for ingestion and realtime tests: direct chain sends (no backend), passes, sockets. */

import { env, exports } from "cloudflare:workers";
import { type Keypair, PublicKey, type TransactionInstruction } from "@solana/web3.js";
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
import { finalizePass } from "../../src/ingest/finalize.ts";
import { type IngestOptions, ingestFromCursor } from "../../src/ingest/pipeline.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { eventually } from "../eventually.ts";
import { confirmed, fundedWallet, sendSigned } from "./chain.ts";

export const programId = () => new PublicKey(inject("programId"));
export const usdtMint = () => new PublicKey(inject("usdtMint"));

/** Signs and sends instructions straight to the localnet RPC, as a wallet that never calls the backend. */
export function sendDirect(ixs: TransactionInstruction[], payer: Keypair, ...others: Keypair[]): Promise<string> {
  return sendSigned(ixs, [payer, ...others], { skipPreflight: true });
}

export { confirmed };

/** A lock of `amount` on `vault` signed by `signer` (any key: the program does not check, bug §8.1), sent directly. */
export function lockDirect(vault: PublicKey, signer: Keypair, amount: bigint): Promise<string> {
  return sendDirect([lockCollateralIx({ programId: programId(), authority: signer.publicKey, vault, amount })], signer);
}

/** A wallet with a vault (initialized and funded straight on the chain) holding `deposit` base units. */
export async function walletWithVault(deposit: bigint) {
  const wallet = await fundedWallet({ usdt: deposit + 1_000_000n });
  const pid = programId();
  const [vault] = findVaultAddress(pid, wallet.publicKey);
  const vaultToken = vaultTokenAccountAddress(vault, usdtMint());
  const init = await sendDirect(
    [initializeVaultIx({ programId: pid, user: wallet.publicKey, mint: usdtMint() })],
    wallet,
  );
  await confirmed(init);
  let depositSig: string | null = null;
  if (deposit > 0n) {
    depositSig = await sendDirect(
      [
        depositIx({
          programId: pid,
          user: wallet.publicKey,
          userTokenAccount: associatedTokenAddress(wallet.publicKey, usdtMint()),
          vaultTokenAccount: vaultToken,
          amount: deposit,
        }),
      ],
      wallet,
    );
    await confirmed(depositSig);
  }
  return { wallet, owner: wallet.publicKey.toBase58(), vault, vaultToken, init, depositSig };
}

/** Runs one ingestion pass (and optionally the finalization pass) as the Ingestor's alarm would. */
export async function ingestPass(opts: IngestOptions & { finalize?: boolean } = {}) {
  const services = backgroundServices(env as Bindings, { test: "ingest" });
  try {
    // The Ingestor's own loop may hold the ingestion lease; wait for our turn, as a second writer would.
    const figures = await eventually(
      async () => {
        const pass = await ingestFromCursor(env as Bindings, services, opts);
        return pass.busy ? undefined : pass;
      },
      { timeoutMs: 60_000, everyMs: 100, what: "an ingestion pass holding the lease" },
    );
    const finalized = opts.finalize ? await finalizePass(env as Bindings, services) : 0;
    return { ...figures, finalized };
  } finally {
    await services.close();
  }
}

/** Runs a callback with a database handle of its own. */
export async function withDb<T>(fn: (db: ReturnType<ReturnType<typeof backgroundServices>["db"]>["db"]) => Promise<T>) {
  const services = backgroundServices(env as Bindings, { test: "db" });
  try {
    return await fn(services.db().db);
  } finally {
    await services.close();
  }
}

export interface SocketMessage {
  event: string;
  data: Record<string, unknown>;
  timestamp: string;
  seq: number;
}

/** An open socket to /ws/:owner that records every message and the close. */
export async function openSocket(owner: string, query = "") {
  const entry = (exports as unknown as { default: Fetcher }).default;
  const res = await entry.fetch(
    new Request(`http://vault.test/ws/${owner}${query}`, { headers: { Upgrade: "websocket" } }),
  );
  const ws = res.webSocket;
  if (!ws) throw new Error(`no websocket: HTTP ${res.status} ${await res.text()}`);
  const messages: SocketMessage[] = [];
  const closed: { code?: number; reason?: string } = {};
  const raw: string[] = [];
  ws.addEventListener("message", (e) => {
    const text = e.data as string;
    try {
      messages.push(JSON.parse(text) as SocketMessage);
    } catch {
      raw.push(text); // e.g. the hub's auto-response "pong"
    }
  });
  ws.addEventListener("close", (e) => {
    closed.code = e.code;
    closed.reason = e.reason;
  });
  ws.accept();
  const waitFor = (predicate: (m: SocketMessage[]) => boolean, timeoutMs = 90_000) =>
    eventually(async () => (predicate(messages) ? messages : undefined), timeoutMs, 50);
  const of = (event: string) => messages.filter((m) => m.event === event);
  return { ws, messages, raw, closed, waitFor, of, status: res.status };
}
