/**
 * Runs before the browser tests: builds the dashboard, then starts the whole stack the way `npm run dev` does — a
 * fresh PostgreSQL database with migrations, the Neon WebSocket proxy, the localnet and `wrangler dev` (with its own
 * state folder, DEV_LOCALNET_URL set so the page offers the dev wallet) — and fires the crons once so ingestion and
 * the TVL job run. Provides the dashboard's base URL to the tests.
 */
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import "./provided-context.ts";
import { buildDashboard } from "../../dev/build-dashboard.ts";
import { ensureChromium } from "../../dev/chromium.ts";
import { stackVars, startStack } from "../../dev/local-stack.ts";
import { freePort } from "../../dev/ports.ts";
import { DEV_DIR, testDatabase } from "../../dev/stack.ts";

export default async function setup(project: TestProject) {
  ensureChromium();
  await buildDashboard();
  const stack = await startStack({
    database: testDatabase,
    localnet: { port: 0, slotMs: 100, finalityDepth: 4, quiet: true },
    worker: {
      port: await freePort(),
      stateDir: join(DEV_DIR, `browser-test-${process.pid}`),
      vars: (parts) => ({
        ...stackVars(parts),
        DEV_LOCALNET_URL: parts.localnet!.rpcUrl,
        INGEST_INTERVAL_MS: "500",
        LOG_LEVEL: "warn",
        // Test-only keys (never used outside the test runner); same as vitest.config.ts.
        API_KEYS: "test-service:service:service-key-0123456789abcdef,test-admin:admin:admin-key-0123456789abcdef",
      }),
      onOutput: (line) => {
        if (process.env.BROWSER_TEST_VERBOSE) console.log(`[worker] ${line}`);
      },
    },
  });
  try {
    // wrangler dev runs no crons by itself: fire each once (ingestion arms its own alarm loop from there).
    for (const cron of ["* * * * *", "*/5 * * * *"]) {
      await fetch(`${stack.worker.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`);
    }
    project.provide("dashboardUrl", `${stack.worker.url}/dashboard/`);
    project.provide("apiUrl", stack.worker.url);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack.stop;
}
