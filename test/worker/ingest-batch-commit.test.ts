import { env } from "cloudflare:workers";
import { inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { fetchTransactions, isChainTx } from "../../src/chain/chain-tx.ts";
import { lockCollateralIx, transferCollateralIx, unlockCollateralIx } from "../../src/chain/program/index.ts";
import { chainTransactions, transactions } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { decodeTx } from "../../src/ingest/decode.ts";
import { commitBatch } from "../../src/ingest/store.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { readVaultStates } from "../../src/vault/vault-state.ts";
import { fundedWallet } from "./chain.ts";
import { confirmed, programId, sendDirect, usdtMint, walletWithVault } from "./ingest-support.ts";

describe("one multi-row commit per batch", () => {
  it("gives every row of a many-transaction batch its own stored id, and commits the batch only once", async () => {
    const a = await walletWithVault(5_000_000n);
    const b = await walletWithVault(1_000_000n);
    const signer = await fundedWallet();
    const pid = programId();
    const sigs: string[] = [];
    for (let i = 0; i < 6; i++) {
      const ix = (i % 2 ? unlockCollateralIx : lockCollateralIx)({
        programId: pid,
        authority: signer.publicKey,
        vault: a.vault,
        // Distinct messages: each lock amount is new, and its unlock releases the same amount.
        amount: 10_000n + BigInt(i - (i % 2)),
      });
      sigs.push(await sendDirect([ix], signer));
    }
    // A transfer gives two rows (out and in) with the same event index in one transaction.
    const transfer = transferCollateralIx({
      programId: pid,
      authority: signer.publicKey,
      fromVault: a.vault,
      fromTokenAccount: a.vaultToken,
      toVault: b.vault,
      toTokenAccount: b.vaultToken,
      amount: 20_000n,
      reason: "settlement",
    });
    sigs.push(await sendDirect([transfer], signer));
    for (const sig of sigs) await confirmed(sig);

    const services = backgroundServices(env as Bindings, { test: "batch-commit" });
    try {
      const fetched = (await fetchTransactions(services.rpc, sigs)).filter(isChainTx);
      expect(fetched).toHaveLength(sigs.length);
      const decoded = fetched.map((t) => decodeTx(t, pid));
      const vaults = [...new Set(decoded.flatMap((d) => d.vaults))];
      let maxSlot = 0n;
      for (const d of decoded) if (d.tx.slot > maxSlot) maxSlot = d.tx.slot;
      const states = await readVaultStates(services.rpc, pid, usdtMint(), vaults, maxSlot);
      const { db } = services.db();

      const first = await commitBatch(db, { decoded, states, source: "poll" });
      expect(first.committed.map((c) => c.decoded.tx.signature)).toEqual(sigs);
      const stored = await db.select().from(transactions).where(inArray(transactions.signature, sigs));
      expect(stored).toHaveLength(8);
      const announced = first.committed.flatMap((c) =>
        c.rows.map((r) => ({ id: r.id, signature: c.decoded.tx.signature, type: r.type, owner: r.owner })),
      );
      expect(announced).toHaveLength(8);
      // Each announced id is the stored row of that very signature, type and owner (no id shared across rows).
      expect(new Set(announced.map((r) => r.id)).size).toBe(8);
      for (const r of announced) {
        const row = stored.find((s) => s.id === r.id)!;
        expect({ signature: row.signature, type: row.transactionType, owner: row.vaultOwner }).toEqual({
          signature: r.signature,
          type: r.type,
          owner: r.owner,
        });
      }
      expect(announced.filter((r) => r.signature === sigs[6]).map((r) => r.type)).toEqual([
        "transfer_out",
        "transfer_in",
      ]);

      // Delivered again (a webhook after the poll): nothing is applied or announced twice.
      const again = await commitBatch(db, { decoded, states, source: "webhook" });
      expect(again.committed).toEqual([]);
      expect(await db.select().from(transactions).where(inArray(transactions.signature, sigs))).toHaveLength(8);
      expect(await db.select().from(chainTransactions).where(inArray(chainTransactions.signature, sigs))).toHaveLength(
        7,
      );
    } finally {
      await services.close();
    }
  });
});
