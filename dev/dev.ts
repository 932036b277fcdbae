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
import { startLocalnet } from "./localnet/index.ts";
import { applyMigrations } from "./migrate.ts";
import { DEV_DIR, devDatabase } from "./stack.ts";
import { startWranglerDev } from "./wrangler.ts";
import { startWsProxy } from "./ws-proxy.ts";

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

  const database = await devDatabase({ fresh: !process.env.SOLANA_RPC_URL });
  stops.push(database.stop);
  await applyMigrations(database.url);
  console.log(`database   ${database.label} (migrations applied)`);

  const proxy = await startWsProxy();
  stops.push(proxy.close);

  let chain: Record<string, unknown>;
  let workerChainVars: Record<string, string>;
  if (process.env.SOLANA_RPC_URL) {
    workerChainVars = {
      SOLANA_RPC_URL: process.env.SOLANA_RPC_URL,
      ...(process.env.SOLANA_WS_URL ? { SOLANA_WS_URL: process.env.SOLANA_WS_URL } : {}),
      ...(process.env.VAULT_PROGRAM_ID ? { VAULT_PROGRAM_ID: process.env.VAULT_PROGRAM_ID } : {}),
      ...(process.env.USDT_MINT ? { USDT_MINT: process.env.USDT_MINT } : {}),
    };
    chain = { rpcUrl: process.env.SOLANA_RPC_URL, local: false };
    console.log(`chain      ${process.env.SOLANA_RPC_URL} (from SOLANA_RPC_URL)`);
  } else {
    const localnet = await startLocalnet({ port: LOCALNET_PORT, quiet: true });
    stops.push(localnet.close);
    workerChainVars = {
      SOLANA_RPC_URL: localnet.rpcUrl,
      SOLANA_WS_URL: localnet.wsUrl,
      VAULT_PROGRAM_ID: localnet.programId.toBase58(),
      USDT_MINT: localnet.usdtMint.toBase58(),
      // Tells the dashboard it may offer the throw-away dev wallet and the faucet (never set for a real cluster).
      DEV_LOCALNET_URL: localnet.rpcUrl,
    };
    chain = {
      local: true,
      rpcUrl: localnet.rpcUrl,
      rpcWsUrl: localnet.wsUrl,
      programId: localnet.programId.toBase58(),
      usdtMint: localnet.usdtMint.toBase58(),
      mintAuthoritySecretKey: Array.from(localnet.mintAuthority.secretKey),
      adminSecretKey: Array.from(localnet.admin.secretKey),
    };
    console.log(`chain      ${localnet.rpcUrl} (localnet; PubSub ${localnet.wsUrl})`);
    console.log(`           program ${localnet.programId.toBase58()}, USDT mint ${localnet.usdtMint.toBase58()}`);
  }

  await buildDashboard();
  // Local keys for the privileged routes, new on every start; tools read them from .dev/stack.json.
  const keys = {
    serviceApiKey: `svc_${randomBytes(24).toString("hex")}`,
    adminApiKey: `adm_${randomBytes(24).toString("hex")}`,
    heliusWebhookSecret: `whk_${randomBytes(24).toString("hex")}`,
  };
  const worker = await startWranglerDev({
    port: API_PORT,
    vars: {
      DATABASE_URL: database.url,
      NEON_WS_PROXY: proxy.address,
      API_KEYS: `local-service:service:${keys.serviceApiKey},local-admin:admin:${keys.adminApiKey}`,
      HELIUS_WEBHOOK_SECRET: keys.heliusWebhookSecret,
      ...workerChainVars,
    },
    onOutput: (line) => console.log(`[worker] ${line}`),
  });
  stops.push(worker.stop);
  const crons = await wranglerCrons();
  const cronLog = (line: string) => console.log(`[cron] ${line}`);
  // Once now (starts the ingestion and scheduler loops), then at every matching minute.
  await fireCrons(worker.url, crons, cronLog);
  const stopCrons = startCronTicker(worker.url, crons, cronLog);
  stops.push(async () => stopCrons());

  const stack = {
    apiUrl: worker.url,
    healthUrl: `${worker.url}/health`,
    docsUrl: `${worker.url}/docs`,
    dashboardUrl: `${worker.url}/dashboard/`,
    databaseUrl: database.url,
    ...keys,
    ...chain,
  };
  await writeFile(join(DEV_DIR, "stack.json"), `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
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
