import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../drizzle", import.meta.url));

/** Applies the drizzle-kit migrations in drizzle/ that the database has not seen yet (a no-op when up to date). */
export async function applyMigrations(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Quiet the NOTICEs Postgres prints for "create schema if not exists" on re-runs.
    await client.query("set client_min_messages = warning");
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.end();
  }
}
