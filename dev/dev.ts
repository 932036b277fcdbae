/**
 * `npm run dev`: the whole system on this machine — PostgreSQL (DATABASE_URL or embedded), migrations, the Neon
 * WebSocket proxy, the local Solana chain (unless SOLANA_RPC_URL is set) and `wrangler dev` — then prints the URLs,
 * writes them to .dev/stack.json, and on Ctrl-C stops everything it started.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildDashboard } from "./build-dashboard.ts";
import { fireCrons, startCronTicker, wranglerCrons } from "./cron.ts";
import { stackVars, startStack } from "./local-stack.ts";
import { profileFromEnv } from "./localnet/profile.ts";
import { DEV_DIR, devDatabase } from "./stack.ts";
import { mergeWorkerVars, workerVarsFromEnv } from "./worker-vars.ts";

const API_PORT = Number(process.env.PORT ?? 8787);
const LOCALNET_PORT = Number(process.env.LOCALNET_PORT ?? 8899);

const stops: Array<() => Promise<void>> = [];
let stopping = false;

/** Stops what was started, newest first, once. */
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const stop of stops.reverse()) await stop().catch((err) => console.error("stop failed:", err));
    await rm(join(DEV_DIR, "stack.json"), { force: true });
  }
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  const started = Date.now();
  await mkdir(DEV_DIR, { recursive: true });
  const external = process.env.SOLANA_RPC_URL;
  // Local keys for the privileged routes, new on every start; tools read them from .dev/stack.json.
  const keys = {
    serviceApiKey: `svc_${randomBytes(24).toString("hex")}`,
    adminApiKey: `adm_${randomBytes(24).toString("hex")}`,
    heliusWebhookSecret: process.env.HELIUS_WEBHOOK_SECRET || `whk_${randomBytes(24).toString("hex")}`,
  };
  // Every Worker variable set in this environment (ALERT_WEBHOOK_URL, LOG_LEVEL, rate limits, …) reaches the Worker.
  const fromEnv = workerVarsFromEnv(process.env, { localChain: !external });
  if (Object.keys(fromEnv).length > 0)
    console.log(`vars       from the environment: ${Object.keys(fromEnv).join(", ")}`);
  const stack = await startStack({
    // The local chain starts empty every time, so the cache starts fresh with it; DATABASE_URL keeps its data.
    database: () => devDatabase({ fresh: !external }),
    localnet: external ? null : { port: LOCALNET_PORT, quiet: true, profile: profileFromEnv(process.env) },
    beforeWorker: async () => {
      if (external) console.log(`chain      ${external} (from SOLANA_RPC_URL)`);
      await buildDashboard();
    },
    worker: {
      port: API_PORT,
      vars: (parts) =>
        mergeWorkerVars(
          {
            ...stackVars(parts),
            API_KEYS: `local-service:service:${keys.serviceApiKey},local-admin:admin:${keys.adminApiKey}`,
            HELIUS_WEBHOOK_SECRET: keys.heliusWebhookSecret,
            // Tells the dashboard it may offer the throw-away dev wallet and the faucet (never for a real cluster).
            ...(parts.localnet ? { DEV_LOCALNET_URL: parts.localnet.rpcUrl } : {}),
          },
          fromEnv,
        ),
      onOutput: (line) => console.log(`[worker] ${line}`),
    },
    log: (part, detail) => {
      if (part !== "worker") console.log(`${part.padEnd(10)} ${detail}`);
    },
    register: (stop) => stops.push(stop),
  });
  const { worker, database, localnet } = stack;
  if (localnet) {
    console.log(`           program ${localnet.programId.toBase58()}, USDT mint ${localnet.usdtMint.toBase58()}`);
  }
  const chain = localnet
    ? {
        local: true,
        rpcUrl: localnet.rpcUrl,
        rpcWsUrl: localnet.wsUrl,
        programId: localnet.programId.toBase58(),
        usdtMint: localnet.usdtMint.toBase58(),
        mintAuthoritySecretKey: Array.from(localnet.mintAuthority.secretKey),
        adminSecretKey: Array.from(localnet.admin.secretKey),
      }
    : { rpcUrl: external, local: false };
  const crons = await wranglerCrons();
  const cronLog = (line: string) => console.log(`[cron] ${line}`);
  // Once now (starts the ingestion and scheduler loops), then at every matching minute.
  await fireCrons(worker.url, crons, cronLog);
  const stopCrons = startCronTicker(worker.url, crons, cronLog);
  stops.push(async () => stopCrons());

  const described = {
    apiUrl: worker.url,
    healthUrl: `${worker.url}/health`,
    docsUrl: `${worker.url}/docs`,
    dashboardUrl: `${worker.url}/dashboard/`,
    databaseUrl: database.url,
    ...keys,
    ...chain,
  };
  await writeFile(join(DEV_DIR, "stack.json"), `${JSON.stringify(described, null, 2)}\n`, { mode: 0o600 });
  console.log(`api        ${worker.url}  (health: ${worker.url}/health, docs: ${worker.url}/docs)`);
  console.log(`dashboard  ${worker.url}/dashboard/`);
  console.log(`stack      ${join(DEV_DIR, "stack.json")}`);
  console.log(`crons      ${crons.join(" | ")} (fired by npm run dev each matching minute)`);
  console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s — Ctrl-C stops everything`);
  worker.process.once("exit", (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code}); stopping`);
      void shutdown(1);
    }
  });
} catch (err) {
  console.error("npm run dev failed:", err instanceof Error ? err.message : err);
  await shutdown(1);
}
