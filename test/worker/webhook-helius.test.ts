import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { lockCollateralIx } from "../../src/chain/program/index.ts";
import { chainTransactions, transactions } from "../../src/db/schema.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet } from "./chain.ts";
import { postJson } from "./helpers.ts";
import { confirmed, ingestPass, programId, sendDirect, walletWithVault, withDb } from "./ingest-support.ts";

const SECRET = "helius-test-secret-0123456789abcdef";

describe("POST /webhooks/helius", () => {
  it("refuses a missing or wrong Authorization secret with 401", async () => {
    const missing = await postJson("/webhooks/helius", []);
    expect(missing.status).toBe(401);
    expect(missing.body.error?.code).toBe("UNAUTHORIZED");
    const wrong = await postJson("/webhooks/helius", [], { authorization: `${SECRET}x` });
    expect(wrong.status).toBe(401);
  });

  it("stores a transaction delivered by the webhook (raw and enhanced) and by the poll exactly once", async () => {
    const { owner, vault } = await walletWithVault(500_000n);
    const signer = await fundedWallet();
    const sig = await sendDirect(
      [lockCollateralIx({ programId: programId(), authority: signer.publicKey, vault, amount: 123n })],
      signer,
    );
    await confirmed(sig);

    const enhanced = await postJson("/webhooks/helius", [{ signature: sig, type: "UNKNOWN", events: {} }], {
      authorization: SECRET,
    });
    expect(enhanced.status).toBe(200);
    expect(enhanced.body.data).toEqual({ accepted: 1 });
    const raw = await postJson(
      "/webhooks/helius",
      [{ slot: 1, transaction: { signatures: [sig], message: {} }, meta: {} }],
      {
        authorization: SECRET,
      },
    );
    expect(raw.body.data).toEqual({ accepted: 1 });

    const lockRows = () =>
      withDb((db) =>
        db
          .select()
          .from(transactions)
          .where(and(eq(transactions.vaultOwner, owner), eq(transactions.signature, sig))),
      );
    await eventually(async () => ((await lockRows()).length > 0 ? true : undefined));
    await ingestPass();
    const rows = await lockRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ transactionType: "lock", amount: 123n });
    const stored = await withDb((db) =>
      db.select().from(chainTransactions).where(eq(chainTransactions.signature, sig)),
    );
    expect(stored).toHaveLength(1);
  });
});
