/**
 * The local stack that `npm run dev`, the browser tests and `npm run bench` all run: a database with migrations,
 * the Neon proxy, the localnet (unless a real chain is used) and `wrangler dev`. Each caller says what differs (ports,
 * chain options, the Worker's variables); start-up and shutdown are written once, here.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { buildDashboard } from "./build-dashboard.ts";
import { type Localnet, type LocalnetOptions, startLocalnet } from "./localnet/index.ts";
import { describeProfile, workerVarsFor } from "./localnet/profile.ts";
import { applyMigrations } from "./migrate.ts";
import type { DatabaseLease } from "./stack.ts";
import { startWranglerDev, type WranglerDev } from "./wrangler.ts";
import { startWsProxy, type WsProxy } from "./ws-proxy.ts";

export interface StackParts {
  database: DatabaseLease;
  proxy: WsProxy;
  /** Null when the stack uses a real cluster (SOLANA_RPC_URL). */
  localnet: Localnet | null;
}

export interface StackOptions {
  /** The database to use; the stack stops it with everything else. */
  database: () => Promise<DatabaseLease>;
  /** Localnet options, or null for a real cluster. */
  localnet: LocalnetOptions | null;
  /** Runs after the chain is up and before the Worker starts (e.g. loading the chain, building assets). */
  beforeWorker?: (parts: StackParts) => Promise<void>;
  worker: {
    port: number;
    /** Own folder for wrangler's env file and Durable Object state; deleted on stop. Default: .dev (kept). */
    stateDir?: string;
    /** The Worker's variables, given what was started. */
    vars: (parts: StackParts) => Record<string, string> | Promise<Record<string, string>>;
    onOutput?: (line: string) => void;
  };
  /** Told about each part as it comes up. */
  log?: (part: "database" | "chain" | "worker", detail: string) => void;
  /** Receives `stop` before anything starts, so a signal during start-up can stop what is already running. */
  register?: (stop: () => Promise<void>) => void;
}

export interface LocalStack extends StackParts {
  worker: WranglerDev;
  /** Stops everything that was started, newest first; safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts the stack; if any part fails, what already started is stopped before the error is rethrown. */
export async function startStack(opts: StackOptions): Promise<LocalStack> {
  const stops: Array<() => Promise<void>> = [];
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      for (const s of stops.reverse()) await s().catch((err) => console.error("stack stop:", err));
    })();
    return stopped;
  };
  opts.register?.(stop);
  try {
    const database = await opts.database();
    stops.push(database.stop);
    await applyMigrations(database.url);
    opts.log?.("database", `${database.label} (migrations applied)`);
    const proxy = await startWsProxy();
    stops.push(proxy.close);
    let localnet: Localnet | null = null;
    if (opts.localnet) {
      localnet = await startLocalnet(opts.localnet);
      stops.push(localnet.close);
    }
    const parts: StackParts = { database, proxy, localnet };
    if (localnet) {
      const behaves = describeProfile(localnet.front.profile);
      opts.log?.("chain", `${localnet.rpcUrl} (localnet; PubSub ${localnet.wsUrl}; ${behaves})`);
    }
    await opts.beforeWorker?.(parts);
    // wrangler dev refuses to start without the assets folder (wrangler.toml [assets]): a fresh clone running the
    // bench or the browser tests before any `npm run dev` has none yet.
    if (!existsSync(new URL("../dist/site", import.meta.url))) await buildDashboard();
    const { stateDir } = opts.worker;
    if (stateDir) stops.push(() => rm(stateDir, { recursive: true, force: true }));
    const worker = await startWranglerDev({
      port: opts.worker.port,
      stateDir,
      vars: await opts.worker.vars(parts),
      onOutput: opts.worker.onOutput,
    });
    stops.push(worker.stop);
    opts.log?.("worker", worker.url);
    return { ...parts, worker, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The Worker variables that point it at the stack's database, proxy and localnet — with the RPC budget and history
 * horizon of the localnet's profile (LOCALNET_PROFILE), as an operator would configure them for that provider.
 */
export function stackVars(parts: StackParts): Record<string, string> {
  return {
    DATABASE_URL: parts.database.url,
    NEON_WS_PROXY: parts.proxy.address,
    ...(parts.localnet
      ? {
          SOLANA_RPC_URL: parts.localnet.rpcUrl,
          SOLANA_WS_URL: parts.localnet.wsUrl,
          VAULT_PROGRAM_ID: parts.localnet.programId.toBase58(),
          USDT_MINT: parts.localnet.usdtMint.toBase58(),
          ...workerVarsFor(parts.localnet.front.profile),
        }
      : {}),
  };
}
