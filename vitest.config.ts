import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { ProvidedContext } from "vitest";
import { defineConfig } from "vitest/config";
import "./test/provided-context.ts";
import { profileFromEnv, workerVarsFor } from "./dev/localnet/profile.ts";
import { TEST_PROVIDER_PROFILE } from "./test/provider/profile.ts";

/** What the `workers` tests' localnets behave as: LOCALNET_PROFILE (default `ideal`) and the LOCALNET_* knobs. */
const sharedProfile = profileFromEnv(process.env);

type Inject = <K extends keyof ProvidedContext>(key: K) => ProvidedContext[K];

/** The Worker's bindings in tests: the stack the global setup started, test-only keys and generous limits. */
function workerBindings(inject: Inject, chain: Record<string, string>) {
  return {
    DATABASE_URL: inject("databaseUrl"),
    NEON_WS_PROXY: inject("neonWsProxy"),
    VAULT_PROGRAM_ID: inject("programId"),
    USDT_MINT: inject("usdtMint"),
    LOG_LEVEL: "warn",
    // Test-only keys and secrets (never used outside the test runner).
    API_KEYS: "test-service:service:service-key-0123456789abcdef,test-admin:admin:admin-key-0123456789abcdef",
    HELIUS_WEBHOOK_SECRET: "helius-test-secret-0123456789abcdef",
    INGEST_INTERVAL_MS: "1000",
    // Generous limits so the suites never trip them; rate-limit tests override them per call.
    RATE_LIMIT_IP_PER_MINUTE: "1000000",
    RATE_LIMIT_OWNER_PER_MINUTE: "1000000",
    RATE_LIMIT_GLOBAL_BUILDS_PER_MINUTE: "10000000",
    // As behind Cloudflare's edge: the tests name their clients with cf-connecting-ip.
    TRUSTED_CLIENT_IP_HEADER: "cf-connecting-ip",
    WS_MAX_ANONYMOUS_PER_CLIENT: "100000",
    WS_MAX_ANONYMOUS_PER_OWNER: "100000",
    ...chain,
  };
}

const workerTest = {
  // Generous: ingestion and jobs share one localnet with every other file; these are waits, not timings.
  testTimeout: 120_000,
  // web3.js 1.x ships CJS/ESM hybrids that workerd's module loader needs pre-bundled (TOOLCHAIN.md).
  deps: { optimizer: { ssr: { enabled: true, include: ["@solana/web3.js", "@solana/spl-token"] } } },
};

export default defineConfig({
  test: {
    projects: [
      {
        // The Worker itself, in workerd, against real Postgres (through the Neon proxy) and the localnet.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: workerBindings(inject, {
                SOLANA_RPC_URL: inject("rpcUrl"),
                SOLANA_WS_URL: inject("rpcWsUrl"),
                ...workerVarsFor(sharedProfile),
              }),
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["./test/global-setup.ts"],
          ...workerTest,
        },
      },
      {
        // The main flows in workerd against a localnet that behaves like a paid RPC provider (test/provider/profile.ts),
        // with an archival endpoint, on a database and chain of their own.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: workerBindings(inject, {
                SOLANA_RPC_URL: inject("providerRpcUrl"),
                SOLANA_WS_URL: inject("rpcWsUrl"),
                SOLANA_ARCHIVE_RPC_URL: inject("archiveRpcUrl"),
                ...workerVarsFor(TEST_PROVIDER_PROFILE),
              }),
            },
          })),
        ],
        test: {
          name: "provider",
          include: ["test/provider/**/*.test.ts"],
          globalSetup: ["./test/provider/global-setup.ts"],
          ...workerTest,
          testTimeout: 180_000,
        },
      },
      {
        // Node: the program codec, the localnet and everything that drives LiteSVM (which cannot run in workerd).
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The dashboard in Debian's Chromium (playwright-core) against the whole stack under `wrangler dev`.
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          globalSetup: ["./test/browser/global-setup.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
