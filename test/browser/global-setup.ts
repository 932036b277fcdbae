/**
 * Runs before the browser tests: builds the dashboard, then starts the whole stack the way `npm run dev` does — a
 * fresh PostgreSQL database with migrations, the Neon WebSocket proxy, the localnet and `wrangler dev` (with its own
 * state folder, DEV_LOCALNET_URL set so the page offers the dev wallet) — and fires the crons once so ingestion and
 * the TVL job run. Provides the dashboard's base URL to the tests.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import "./provided-context.ts";
import { buildDashboard } from "../../dev/build-dashboard.ts";
import { ensureChromium } from "../../dev/chromium.ts";
import { startLocalnet } from "../../dev/localnet/index.ts";
import { applyMigrations } from "../../dev/migrate.ts";
import { freePort } from "../../dev/ports.ts";
import { DEV_DIR, testDatabase } from "../../dev/stack.ts";
import { startWranglerDev } from "../../dev/wrangler.ts";
import { startWsProxy } from "../../dev/ws-proxy.ts";

export default async function setup(project: TestProject) {
  ensureChromium();
  await buildDashboard();
  const database = await testDatabase();
  const stops: Array<() => Promise<void>> = [database.stop];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => console.error("browser stack stop:", err));
  };
  try {
    await applyMigrations(database.url);
    const proxy = await startWsProxy();
    stops.push(proxy.close);
    const localnet = await startLocalnet({ port: 0, slotMs: 100, finalityDepth: 4, quiet: true });
    stops.push(localnet.close);
    const stateDir = join(DEV_DIR, `browser-test-${process.pid}`);
    stops.push(() => rm(stateDir, { recursive: true, force: true }));
    const worker = await startWranglerDev({
      port: await freePort(),
      stateDir,
      vars: {
        DATABASE_URL: database.url,
        NEON_WS_PROXY: proxy.address,
        SOLANA_RPC_URL: localnet.rpcUrl,
        SOLANA_WS_URL: localnet.wsUrl,
        VAULT_PROGRAM_ID: localnet.programId.toBase58(),
        USDT_MINT: localnet.usdtMint.toBase58(),
        DEV_LOCALNET_URL: localnet.rpcUrl,
        INGEST_INTERVAL_MS: "500",
        LOG_LEVEL: "warn",
        // Test-only keys (never used outside the test runner); same as vitest.config.ts.
        API_KEYS: "test-service:service:service-key-0123456789abcdef,test-admin:admin:admin-key-0123456789abcdef",
      },
      onOutput: (line) => {
        if (process.env.BROWSER_TEST_VERBOSE) console.log(`[worker] ${line}`);
      },
    });
    stops.push(worker.stop);
    // wrangler dev runs no crons by itself: fire each once (ingestion arms its own alarm loop from there).
    for (const cron of ["* * * * *", "*/5 * * * *"]) {
      await fetch(`${worker.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`);
    }
    project.provide("dashboardUrl", `${worker.url}/dashboard/`);
    project.provide("apiUrl", worker.url);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}
