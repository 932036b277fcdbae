import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, portInUse } from "./ports.ts";
import {
  canConnect,
  createDatabase,
  dropDatabase,
  externalPostgres,
  type PostgresServer,
  startEmbeddedPostgres,
} from "./postgres.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DEV_DIR = join(ROOT, ".dev");
export const DEV_PG_PORT = 54329;

export interface DatabaseLease {
  url: string;
  /** Where the database lives, for messages (never includes a password). */
  label: string;
  stop(): Promise<void>;
}

/** Removes the password from a connection string before it is printed. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

/**
 * The database `npm run dev` and `npm run db:migrate` use: DATABASE_URL when set, else the embedded PostgreSQL
 * kept in .dev/pg (reused when it is already running, e.g. by another `npm run dev`).
 */
export async function devDatabase(opts: { fresh?: boolean } = {}): Promise<DatabaseLease> {
  const external = process.env.DATABASE_URL;
  if (external) return { url: external, label: redactUrl(external), stop: async () => {} };
  const url = `postgres://postgres:postgres@127.0.0.1:${DEV_PG_PORT}/vault_dev`;
  const running = (await portInUse(DEV_PG_PORT)) && (await canConnect(url.replace("/vault_dev", "/postgres")));
  const server: PostgresServer = running
    ? externalPostgres(url.replace("/vault_dev", "/postgres"))
    : await startEmbeddedPostgres({ dataDir: join(DEV_DIR, "pg"), port: DEV_PG_PORT, persistent: true });
  // The local chain starts empty every time, so a fresh cache keeps the two in step.
  if (opts.fresh) await dropDatabase(server, "vault_dev");
  if (!(await canConnect(url))) await createDatabase(server, "vault_dev");
  const where = server.dataDir && server.dataDir !== join(DEV_DIR, "pg") ? ` (data in ${server.dataDir})` : "";
  const label = `embedded PostgreSQL${running ? " (already running)" : ""} ${redactUrl(url)}${where}${opts.fresh ? ", fresh database" : ""}`;
  return { url, label, stop: running ? async () => {} : () => server.stop() };
}

/**
 * A fresh, empty database for one test run: on DATABASE_URL's server when set (dropped afterwards), else on a
 * throw-away embedded PostgreSQL whose data directory is deleted on stop.
 */
export async function testDatabase(): Promise<DatabaseLease> {
  let server: PostgresServer;
  let label: string;
  if (process.env.DATABASE_URL) {
    server = externalPostgres(process.env.DATABASE_URL);
    label = redactUrl(process.env.DATABASE_URL);
  } else {
    const port = await freePort();
    const dataDir = join(DEV_DIR, `test-pg-${process.pid}-${randomBytes(3).toString("hex")}`);
    server = await startEmbeddedPostgres({ dataDir, port, persistent: false });
    label = `embedded PostgreSQL on port ${port}`;
  }
  const name = `vault_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const url = await createDatabase(server, name);
  return {
    url,
    label: `${label} (database ${name})`,
    stop: async () => {
      await dropDatabase(server, name).catch(() => {});
      await server.stop();
    },
  };
}
