import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { associatedTokenAddress, depositIx } from "../../src/chain/program/index.ts";
import { transactions } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { kickIngestor } from "../../src/platform/stubs.ts";
import { fundedWallet } from "./chain.ts";
import { call } from "./helpers.ts";
import {
  confirmed,
  ingestPass,
  lockDirect,
  openSocket,
  programId,
  sendDirect,
  usdtMint,
  walletWithVault,
  withDb,
} from "./ingest-support.ts";

describe("the owner's WebSocket", () => {
  it("a wallet that never calls the backend sees its deposit confirmed, its balance, then finalized (Ingestor loop)", async () => {
    const { wallet, owner, vaultToken } = await walletWithVault(0n);
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    await kickIngestor(env as Bindings);

    const sig = await sendDirect(
      [
        depositIx({
          programId: programId(),
          user: wallet.publicKey,
          userTokenAccount: associatedTokenAddress(wallet.publicKey, usdtMint()),
          vaultTokenAccount: vaultToken,
          amount: 400_000n,
        }),
      ],
      wallet,
    );
    await socket.waitFor((m) => m.some((x) => x.event === "transaction_finalized" && x.data.signature === sig));
    const confirmedAt = socket.messages.findIndex(
      (x) => x.event === "transaction_confirmed" && x.data.signature === sig,
    );
    const finalizedAt = socket.messages.findIndex(
      (x) => x.event === "transaction_finalized" && x.data.signature === sig,
    );
    expect(confirmedAt).toBeGreaterThanOrEqual(0);
    expect(finalizedAt).toBeGreaterThan(confirmedAt);
    expect(socket.messages[confirmedAt]!.data).toMatchObject({ transactionType: "deposit", amount: 400_000, owner });
    const balance = socket.of("balance_update").at(-1)!;
    expect(balance.data).toMatchObject({ owner, totalBalance: 400_000, availableBalance: 400_000 });
    for (const m of socket.messages) {
      expect(Object.keys(m).sort()).toEqual(["commitment", "data", "event", "seq", "slot", "timestamp"]);
    }

    const history = await call(`/vault/transactions/${owner}`);
    expect(JSON.stringify(history.body)).toContain(sig);
    socket.ws.close(1000, "done");
  });

  it("a lock by an arbitrary signer straight on the chain reaches the owner's socket as collateral_locked and the DB", async () => {
    const { owner, vault } = await walletWithVault(2_000_000n);
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    const stranger = await fundedWallet();
    const sig = await lockDirect(vault, stranger, 750_000n);
    await confirmed(sig);
    await ingestPass();
    await socket.waitFor((m) => m.some((x) => x.event === "collateral_locked" && x.data.signature === sig));
    expect(socket.of("collateral_locked").find((x) => x.data.signature === sig)!.data).toMatchObject({
      owner,
      amount: 750_000,
      positionId: null,
      lockedBalance: 750_000,
      availableBalance: 1_250_000,
      authority: stranger.publicKey.toBase58(),
    });
    const rows = await withDb((db) =>
      db
        .select()
        .from(transactions)
        .where(and(eq(transactions.vaultOwner, owner), eq(transactions.signature, sig))),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ transactionType: "lock", amount: 750_000n });
    socket.ws.close(1000, "done");
  });

  it("500 transactions in a burst between two polls all arrive, in chain order", async () => {
    const { owner, vault } = await walletWithVault(200_000n);
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    await ingestPass();
    const signer = await fundedWallet();
    const sigs: string[] = [];
    for (let i = 1; i <= 500; i++) {
      sigs.push(await lockDirect(vault, signer, BigInt(i)));
    }
    await confirmed(sigs[499]!);
    await ingestPass();
    await socket.waitFor((m) => m.filter((x) => x.event === "collateral_locked").length >= 500, 60_000);
    const locks = socket.of("collateral_locked");
    expect(locks).toHaveLength(500);
    let locked = 0n;
    locks.forEach((m, i) => {
      locked += BigInt(i + 1);
      expect(m.data.amount).toBe(i + 1);
      expect(m.data.lockedBalance).toBe(Number(locked));
    });
    const seqs = socket.messages.filter((m) => m.event !== "snapshot").map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const rows = await withDb((db) =>
      db
        .select()
        .from(transactions)
        .where(and(eq(transactions.vaultOwner, owner), eq(transactions.transactionType, "lock"))),
    );
    expect(rows).toHaveLength(500);
    socket.ws.close(1000, "done");
  }, 120_000);

  it("resuming with since replays exactly the events that were missed", async () => {
    const { owner, vault } = await walletWithVault(1_000_000n);
    await ingestPass();
    const watcher = await openSocket(owner);
    const first = await openSocket(owner);
    await first.waitFor((m) => m.some((x) => x.event === "snapshot"));
    await watcher.waitFor((m) => m.some((x) => x.event === "snapshot"));
    const signer = await fundedWallet();
    const lockOnce = async (amount: bigint) => {
      const sig = await lockDirect(vault, signer, amount);
      await confirmed(sig);
      await ingestPass();
      return sig;
    };
    const a = await lockOnce(10n);
    await first.waitFor((m) => m.some((x) => x.event === "collateral_locked" && x.data.signature === a));
    const lastSeen = Math.max(...first.messages.filter((m) => m.event !== "snapshot").map((m) => m.seq));
    first.ws.close(1000, "going offline");

    const b = await lockOnce(20n);
    const c = await lockOnce(30n);
    await watcher.waitFor((m) => m.some((x) => x.event === "collateral_locked" && x.data.signature === c));
    const resumed = await openSocket(owner, `?since=${lastSeen}`);
    // Compare up to the newest seq the always-connected watcher has (later live events may follow on both).
    const seqOf = (s: { messages: { event: string; seq: number }[] }) =>
      Math.max(...s.messages.filter((m) => m.event !== "snapshot").map((m) => m.seq));
    await resumed.waitFor(() => seqOf(resumed) >= seqOf(watcher));
    const cutoff = seqOf(watcher);
    const range = (s: typeof watcher) =>
      s.messages.filter((m) => m.event !== "snapshot" && m.seq > lastSeen && m.seq <= cutoff);
    const replayed = range(resumed);
    expect(replayed).toEqual(range(watcher));
    expect(replayed[0]!.seq).toBe(lastSeen + 1);
    expect(replayed.filter((m) => m.event === "collateral_locked").map((m) => m.data.signature)).toEqual([b, c]);

    const ahead = await openSocket(owner, "?since=999999999");
    await ahead.waitFor((m) => m.some((x) => x.event === "resync"));
    expect(ahead.of("resync")[0]!.data).toMatchObject({ since: 999999999 });
    for (const s of [watcher, resumed, ahead]) s.ws.close(1000, "done");
  });

  it("an invalid owner is closed with a clear code and reason; a plain GET is told to upgrade", async () => {
    const socket = await openSocket("not-a-pubkey");
    await socket.waitFor(() => socket.closed.code !== undefined);
    expect(socket.closed).toEqual({ code: 4400, reason: "invalid owner: expected a base58 32-byte public key" });
    const plain = await call("/ws/11111111111111111111111111111111");
    expect(plain.status).toBe(426);
    expect(plain.body.error?.code).toBe("UPGRADE_REQUIRED");
  });
});
