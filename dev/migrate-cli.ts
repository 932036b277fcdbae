/** `npm run db:migrate`: applies migrations to DATABASE_URL, or to the embedded dev database when it is unset. */
import { applyMigrations } from "./migrate.ts";
import { devDatabase } from "./stack.ts";

const db = await devDatabase();
try {
  await applyMigrations(db.url);
  console.log(`migrations applied to ${db.label}`);
} finally {
  await db.stop();
}
