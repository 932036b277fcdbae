import { describe, expect, it } from "vitest";
import { type DeployInput, PUBLIC_DEVNET_RPC, planDeploy } from "../../dev/deploy-plan.ts";

const PROGRAM = "6DXunQxjcEx6V978DDho6A4GoKVk39HrAVtjtLywSy4Q";
const DEVNET_MINT = "D7RuTiSQjkYnq66EnmXuZQDhSaxZuetox5sYcvgBA3Bp";
const MAINNET_USDT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";
const NEON_POOLED = "postgres://app:pw@ep-quiet-fog-123456-pooler.us-east-2.aws.neon.tech/vault?sslmode=require";
const KEYS = "ops:admin:0123456789abcdef0123456789abcdef";

const devnet = (over: Partial<DeployInput> = {}): DeployInput => ({
  envName: "devnet",
  definedEnvs: ["devnet", "mainnet"],
  tomlVars: { SOLANA_CLUSTER: "devnet", VAULT_PROGRAM_ID: PROGRAM, USDT_MINT: DEVNET_MINT },
  processEnv: {},
  acceptOpenTransferRisk: false,
  dryRun: false,
  skipMigrations: false,
  existingSecrets: ["DATABASE_URL", "API_KEYS"],
  ...over,
});

const mainnet = (over: Partial<DeployInput> = {}): DeployInput =>
  devnet({
    envName: "mainnet",
    tomlVars: { SOLANA_CLUSTER: "mainnet-beta" },
    processEnv: {
      VAULT_PROGRAM_ID: PROGRAM,
      USDT_MINT: MAINNET_USDT,
      SOLANA_RPC_URL: "https://mainnet.helius-rpc.com/?api-key=k",
      MIGRATION_DATABASE_URL: "postgres://app:pw@ep-direct.neon.tech/vault",
    },
    existingSecrets: ["DATABASE_URL", "API_KEYS"],
    acceptOpenTransferRisk: true,
    ...over,
  });

describe("npm run deploy's checks", () => {
  it("deploys devnet on the public devnet RPC when no provider URL is given, and says so", () => {
    const plan = planDeploy(devnet({ skipMigrations: true }));
    expect(plan.refusals).toEqual([]);
    expect(plan.secrets).toEqual({ SOLANA_RPC_URL: PUBLIC_DEVNET_RPC });
    expect(plan.warnings.join("\n")).toContain("public devnet endpoint");
  });

  it("refuses mainnet without an explicit program id, mint and RPC", () => {
    const plan = planDeploy(mainnet({ processEnv: {} }));
    expect(plan.refusals.join("\n")).toMatch(/explicit VAULT_PROGRAM_ID/);
    expect(plan.refusals.join("\n")).toMatch(/explicit USDT_MINT/);
    expect(plan.refusals.join("\n")).toMatch(/missing secrets: SOLANA_RPC_URL/);
    expect(plan.secrets).not.toHaveProperty("SOLANA_RPC_URL");
  });

  it("refuses mainnet while the program lets strangers move collateral, unless the risk is acknowledged", () => {
    expect(planDeploy(mainnet({ acceptOpenTransferRisk: false })).refusals.join("\n")).toMatch(
      /--accept-open-transfer-risk/,
    );
    expect(planDeploy(mainnet()).refusals).toEqual([]);
  });

  it("refuses a mint or an RPC host of another cluster, and the public mainnet endpoint", () => {
    expect(planDeploy(devnet({ processEnv: { USDT_MINT: MAINNET_USDT } })).refusals.join("\n")).toMatch(
      /mainnet USDT but SOLANA_CLUSTER is devnet/,
    );
    expect(planDeploy(mainnet({ processEnv: { ...mainnet().processEnv, USDT_MINT: DEVNET_MINT } })).refusals).toContain(
      "USDT_MINT is a devnet test mint but SOLANA_CLUSTER is mainnet-beta",
    );
    const wrongRpc = planDeploy(
      devnet({ processEnv: { SOLANA_RPC_URL: "https://mainnet.helius-rpc.com/?api-key=k" } }),
    );
    expect(wrongRpc.refusals.join("\n")).toMatch(/host names mainnet-beta but SOLANA_CLUSTER is devnet/);
    const publicMainnet = planDeploy(
      mainnet({ processEnv: { ...mainnet().processEnv, SOLANA_RPC_URL: "https://api.mainnet-beta.solana.com" } }),
    );
    expect(publicMainnet.refusals.join("\n")).toMatch(/public mainnet endpoint/);
  });

  it("refuses missing secrets by name, never printing a secret's value", () => {
    const plan = planDeploy(
      devnet({ existingSecrets: [], processEnv: { HELIUS_WEBHOOK_SECRET: "s3cr3t-value-0123456789" } }),
    );
    expect(plan.refusals.join("\n")).toMatch(/missing secrets: DATABASE_URL, API_KEYS/);
    const printed = JSON.stringify([plan.refusals, plan.warnings]);
    expect(printed).not.toContain("s3cr3t-value");
  });

  it("in an offline dry run reports secrets it cannot see as unverified instead of refusing", () => {
    const plan = planDeploy(devnet({ existingSecrets: null, dryRun: true }));
    expect(plan.refusals).toEqual([]);
    expect(plan.warnings.join("\n")).toMatch(/not verified.*DATABASE_URL, API_KEYS/);
  });

  it("refuses a local database or RPC left in the shell, and a secret or local-only variable in wrangler.toml", () => {
    const local = planDeploy(devnet({ processEnv: { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/dev" } }));
    expect(local.refusals).toContain("DATABASE_URL in this shell points at a local or private host");
    const toml = planDeploy(
      devnet({ tomlVars: { ...devnet().tomlVars, SOLANA_RPC_URL: "https://x.example", NEON_WS_PROXY: "127.0.0.1:1" } }),
    );
    expect(toml.refusals.join("\n")).toMatch(/sets SOLANA_RPC_URL: it is a secret/);
    expect(toml.refusals.join("\n")).toMatch(/sets NEON_WS_PROXY, which is for the local stack only/);
  });

  it("runs migrations on Neon's direct host and warns when the Worker would get the direct string", () => {
    const pooled = planDeploy(devnet({ processEnv: { DATABASE_URL: NEON_POOLED, API_KEYS: KEYS } }));
    expect(pooled.refusals).toEqual([]);
    expect(new URL(pooled.migrationUrl!).hostname).toBe("ep-quiet-fog-123456.us-east-2.aws.neon.tech");
    const direct = planDeploy(devnet({ processEnv: { DATABASE_URL: NEON_POOLED.replace("-pooler", "") } }));
    expect(direct.warnings.join("\n")).toMatch(/pooled one/);
    const unknown = planDeploy(devnet());
    expect(unknown.refusals.join("\n")).toMatch(/MIGRATION_DATABASE_URL/);
  });

  it("validates the values with the Worker's own configuration parser, naming the bad variable only", () => {
    const plan = planDeploy(
      devnet({ skipMigrations: true, processEnv: { API_KEYS: "short:admin:tiny", RATE_LIMIT_IP_PER_MINUTE: "-3" } }),
    );
    const text = plan.refusals.join("\n");
    expect(text).toMatch(/API_KEYS/);
    expect(text).toMatch(/RATE_LIMIT_IP_PER_MINUTE/);
    expect(text).not.toContain("tiny");
    expect(plan.varOverrides).toEqual({ RATE_LIMIT_IP_PER_MINUTE: "-3" });
  });

  it("refuses an environment wrangler.toml does not define", () => {
    expect(planDeploy(devnet({ envName: "staging" })).refusals).toEqual([
      "wrangler.toml has no [env.staging] (defined: devnet, mainnet)",
    ]);
  });
});
