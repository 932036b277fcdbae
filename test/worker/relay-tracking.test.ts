/**
 * Every tracked transaction ends: one the owner's hub rebroadcasts whose blockhash the backend never handed out
 * (the client built it, or a wallet replaced the blockhash) has no known last valid block height; it ends when
 * the node says the blockhash is no longer valid.
 */
import { env } from "cloudflare:workers";
import { Keypair, SystemProgram, Transaction } from "@solana/web3.js";
import bs58 from "bs58";
import { describe, expect, it } from "vitest";
import { transactions } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { ownerHub } from "../../src/platform/stubs.ts";
import { fundedWallet, rpc } from "./chain.ts";
import { call } from "./helpers.ts";
import { openSocket, withDb } from "./ingest-support.ts";
import { latestBlockhash } from "./wallet.ts";

describe("relay tracking", () => {
  it("ends a dropped transaction with a client's own blockhash as expired once the node no longer knows it", async () => {
    const owner = (await fundedWallet()).publicKey.toBase58();
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    // A signed transaction that can never land (its payer has no lamports): every rebroadcast is refused.
    const payer = Keypair.generate();
    const { blockhash } = await latestBlockhash();
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight: 0 }).add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1 }),
    );
    tx.sign(payer);
    const signature = bs58.encode(tx.signatures[0]!.signature!);
    const [row] = await withDb((db) =>
      db
        .insert(transactions)
        .values({
          vaultOwner: owner,
          transactionType: "deposit",
          amount: 1n,
          status: "submitted",
          origin: "relay",
          signature,
          blockhash,
          details: { builtBy: "client" },
        })
        .returning(),
    );
    await ownerHub(env as Bindings, owner).track({
      transactionId: row!.id,
      wire: btoa(String.fromCharCode(...tx.serialize())),
      lastSentAt: 0,
      trackedSince: Date.now(),
    });
    expect((await call(`/transactions/${row!.id}`)).body.data).toMatchObject({ status: "submitted" });

    // About 150 blocks later (15 s at the test chain's 100 ms slots) the blockhash is gone and the hub says so.
    const expired = await socket.waitFor((m) => m.some((x) => x.event === "transaction_expired"), 60_000);
    expect(expired.find((x) => x.event === "transaction_expired")!.data).toEqual({
      transactionId: row!.id,
      owner,
      transactionType: "deposit",
      type: "deposit",
      status: "expired",
    });
    expect(await rpc("isBlockhashValid", [blockhash, { commitment: "processed" }])).toMatchObject({ value: false });
    expect((await call(`/transactions/${row!.id}`)).body.data).toMatchObject({ status: "expired", signature });
    socket.ws.close(1000, "done");
  });
});
