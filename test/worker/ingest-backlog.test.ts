/**
 * A backlog longer than one pass may walk (a first start against a long history, a long outage), on the second
 * localnet with a stream of its own, so the shared chain's ingestion never sees it and the counts are exact.
 */
import { env } from "cloudflare:workers";
import { Keypair } from "@solana/web3.js";
import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
  lockCollateralIx,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import { chainTransactions, cursors, transactions } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { cursorName, ingestFromCursor } from "../../src/ingest/pipeline.ts";
import { backgroundServices } from "../../src/realtime/services.ts";
import { confirmed, rpcAt, sendSigned } from "./chain.ts";
import { programId, usdtMint, withDb } from "./ingest-support.ts";

const url = () => inject("isolatedRpcUrl");

async function fund(address: string, usdt: bigint) {
  const res = await fetch(`${url()}/localnet/fund`, {
    method: "POST",
    body: JSON.stringify({ address, lamports: "2000000000", usdt: usdt.toString() }),
  });
  await res.text();
}

/** Every program signature on the isolated chain, newest first. */
async function allSignatures(): Promise<string[]> {
  const out: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await rpcAt<{ signature: string }[]>(url(), "getSignaturesForAddress", [
      programId().toBase58(),
      { limit: 1000, commitment: "confirmed", ...(before ? { before } : {}) },
    ]);
    out.push(...page.map((p) => p.signature));
    if (page.length < 1000) return out;
    before = page.at(-1)!.signature;
  }
}

describe("a backlog longer than one pass", () => {
  it("is walked in bounded stretches, ingested oldest stretch first, each transaction once", async () => {
    const user = Keypair.generate();
    await fund(user.publicKey.toBase58(), 10_000_000n);
    const [vault] = findVaultAddress(programId(), user.publicKey);
    const send = async (ixs: Parameters<typeof sendSigned>[0], signers: Keypair[]) => {
      const sig = await sendSigned(ixs, signers, { url: url() });
      await confirmed(sig, { url: url(), failOnError: true });
      return sig;
    };
    await send([initializeVaultIx({ programId: programId(), user: user.publicKey, mint: usdtMint() })], [user]);
    await send(
      [
        depositIx({
          programId: programId(),
          user: user.publicKey,
          userTokenAccount: associatedTokenAddress(user.publicKey, usdtMint()),
          vaultTokenAccount: vaultTokenAccountAddress(vault, usdtMint()),
          amount: 10_000_000n,
        }),
      ],
      [user],
    );
    const signer = Keypair.generate();
    await fund(signer.publicKey.toBase58(), 0n);
    const locks: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const ix = lockCollateralIx({ programId: programId(), authority: signer.publicKey, vault, amount: BigInt(i) });
      locks.push(await send([ix], [signer]));
    }

    const stream = `backlog-test-${crypto.randomUUID().slice(0, 8)}`;
    const isolated = { ...env, SOLANA_RPC_URL: url(), SOLANA_WS_URL: undefined } as unknown as Bindings;
    const services = backgroundServices(isolated, { test: "backlog" });
    const walked: number[] = [];
    let pendingSeen = 0;
    try {
      for (let pass = 0; pass < 200; pass++) {
        const figures = await ingestFromCursor(isolated, services, { stream, pageSize: 4, maxPages: 2 });
        walked.push(figures.signatures);
        pendingSeen = Math.max(pendingSeen, figures.pendingSegments ?? 0);
        if (figures.complete && figures.pendingSegments === 0 && figures.signatures === 0) break;
      }
    } finally {
      await services.close();
    }

    // Every pass walked at most 2 pages of 4; the backlog needed several stretches.
    expect(Math.max(...walked)).toBeLessThanOrEqual(8);
    expect(pendingSeen).toBeGreaterThanOrEqual(3);
    // Everything the chain has is stored exactly once (unique signatures), the locks as history rows in chain order.
    const onChain = await allSignatures();
    const stored = await withDb((db) =>
      db
        .select({ signature: chainTransactions.signature })
        .from(chainTransactions)
        .where(inArray(chainTransactions.signature, onChain)),
    );
    expect(stored).toHaveLength(onChain.length);
    const rows = await withDb((db) =>
      db
        .select()
        .from(transactions)
        .where(and(eq(transactions.vaultOwner, user.publicKey.toBase58()), eq(transactions.transactionType, "lock")))
        .orderBy(transactions.slot, transactions.createdAt),
    );
    expect(rows.map((r) => r.signature)).toEqual(locks);
    expect(rows.map((r) => r.amount)).toEqual(locks.map((_, i) => BigInt(i + 1)));
    const [cursor] = await withDb((db) =>
      db
        .select()
        .from(cursors)
        .where(eq(cursors.name, cursorName(stream))),
    );
    expect(cursor?.signature).toBe(onChain[0]);
    expect(cursor?.state).toEqual({ frontiers: [] });
  });
});
