/**
 * A backlog longer than one pass may walk (a first start against a long history, a long outage), on the second
 * localnet with a stream of its own, so the shared chain's ingestion never sees it and the counts are exact.
 */
import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { chainTransactions, cursors, transactions } from "../../src/db/schema.ts";
import { cursorName, ingestFromCursor } from "../../src/ingest/pipeline.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { withDb } from "./ingest-support.ts";
import { isolatedEnv, isolatedSignatures, isolatedVaultWithLocks } from "./isolated-support.ts";

describe("a backlog longer than one pass", () => {
  it("is walked in bounded stretches, ingested oldest stretch first, each transaction once", async () => {
    const { owner, locks } = await isolatedVaultWithLocks(30);

    const stream = `backlog-test-${crypto.randomUUID().slice(0, 8)}`;
    const isolated = isolatedEnv();
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
    const onChain = await isolatedSignatures();
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
        .where(and(eq(transactions.vaultOwner, owner), eq(transactions.transactionType, "lock")))
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
