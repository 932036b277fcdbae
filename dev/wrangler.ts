import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeOperationsIndex } from "./operations-index.ts";
import { DEV_DIR, ROOT } from "./stack.ts";

export interface WranglerDev {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `wrangler dev` offline and quietly (TOOLCHAIN.md), in its own process group so that stopping it also
 * stops workerd, with the Worker's variables passed through an env file in .dev/ (never a committed file).
 */
export async function startWranglerDev(opts: {
  port: number;
  vars: Record<string, string>;
  onOutput?: (line: string) => void;
  /** Own folder for the env file and the local state (Durable Objects), so a test stack never shares `npm run dev`'s. */
  stateDir?: string;
}): Promise<WranglerDev> {
  // The operation list is generated from src/api/operations/ before the Worker is bundled.
  await writeOperationsIndex();
  const dir = opts.stateDir ?? DEV_DIR;
  await mkdir(dir, { recursive: true });
  const envFile = join(dir, "worker.env");
  await writeFile(
    envFile,
    `${Object.entries(opts.vars)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join("\n")}\n`,
    {
      mode: 0o600,
    },
  );
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(opts.port),
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
      // The stack fires the crons itself (dev/cron.ts); without this flag wrangler warns that they never run locally.
      "--test-scheduled",
      "--log-level",
      "warn",
      ...(opts.stateDir ? ["--persist-to", join(opts.stateDir, "state")] : []),
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_HIDE_BANNER: "true",
        XDG_CONFIG_HOME: join(DEV_DIR, "wrangler-config"),
        WRANGLER_LOG_PATH: join(DEV_DIR, "wrangler-logs"),
      },
    },
  );
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim()) opts.onOutput?.(line);
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = () => stopProcessGroup(child);
  try {
    await waitForHttp(`${url}/health`, 60_000, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, process: child, stop };
}

/** Polls until the URL answers at all (any status). */
async function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(5_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`wrangler dev did not answer on ${url} within ${timeoutMs} ms`);
}

/** SIGTERM to the whole group, SIGKILL if it is still there after 5 s. */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // The group is already gone.
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
  // workerd may outlive wrangler's node process for a moment; make sure the group is empty.
  signal("SIGKILL");
}
