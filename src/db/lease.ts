import { and, eq, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { cursors } from "./schema.ts";

/** How long a lease lasts without renewal: a pass killed mid-way frees ingestion after this. */
export const LEASE_MS = 60_000;

/**
 * A lease row in `cursors` that serializes ingestion passes (the Ingestor loop, the cron backstop and webhook
 * deliveries): with one writer at a time, events reach each owner's socket in chain order. Returns true when
 * `holder` now holds it (free, expired, or already its own).
 */
export async function acquireLease(db: Database, name: string, holder: string, now = Date.now()): Promise<boolean> {
  await db
    .insert(cursors)
    .values({ name, state: { holder: null, expiresAt: 0 } })
    .onConflictDoNothing();
  const rows = await db
    .update(cursors)
    .set({ state: { holder, expiresAt: now + LEASE_MS }, updatedAt: new Date(now) })
    .where(
      and(
        eq(cursors.name, name),
        sql`(coalesce((${cursors.state}->>'expiresAt')::bigint, 0) < ${now} or ${cursors.state}->>'holder' = ${holder})`,
      ),
    )
    .returning({ name: cursors.name });
  return rows.length > 0;
}

/** Gives the lease back (only when `holder` still holds it). */
export async function releaseLease(db: Database, name: string, holder: string): Promise<void> {
  await db
    .update(cursors)
    .set({ state: { holder: null, expiresAt: 0 }, updatedAt: new Date() })
    .where(and(eq(cursors.name, name), sql`${cursors.state}->>'holder' = ${holder}`));
}
