/**
 * The rules `npm run deploy` checks before anything leaves this machine: which variables and secrets a deployment
 * gets, and why it must refuse. Pure (no I/O), so every rule is tested (test/node/deploy-plan.test.ts). Secret
 * values never appear in what it returns for printing: only their names.
 */
import { CONFIG_VARIABLES, ConfigError, loadConfig } from "../src/config.ts";

/** Worker variables that are secrets: set with the deployment's secrets file, never as vars, never printed. */
export const SECRET_NAMES = [
  "DATABASE_URL",
  "SOLANA_RPC_URL",
  "SOLANA_WS_URL",
  "API_KEYS",
  "HELIUS_WEBHOOK_SECRET",
  "ALERT_WEBHOOK_URL",
] as const;
/** Without these the Worker cannot serve (CONFIG_INVALID or no admin access). */
export const REQUIRED_SECRETS = ["DATABASE_URL", "SOLANA_RPC_URL", "API_KEYS"] as const;
/** Variables for the local stack and the benchmark only: a deployment refuses them. */
export const LOCAL_ONLY = ["NEON_WS_PROXY", "DEV_LOCALNET_URL", "BENCH_ROUTES"];

export const PUBLIC_DEVNET_RPC = "https://api.devnet.solana.com";
const MAINNET_USDT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";
/** The program's devnet test mints (vault-program.md §1). */
const DEVNET_TEST_MINTS = [
  "D7RuTiSQjkYnq66EnmXuZQDhSaxZuetox5sYcvgBA3Bp",
  "A5evvsQnm3znpKScfuHvhasUw4BXEhqZYabvZYRtKDVh",
];
/** vault-program.md §8.1: any signer can lock, unlock or transfer anyone's collateral. True until the program is fixed. */
export const PROGRAM_LETS_STRANGERS_MOVE_COLLATERAL = true;
export const ACK_FLAG = "--accept-open-transfer-risk";

export interface DeployInput {
  envName: string;
  /** The environments wrangler.toml defines. */
  definedEnvs: string[];
  /** `[env.<name>.vars]` as wrangler resolves it. */
  tomlVars: Record<string, string>;
  /** The operator's environment: explicit values for vars, secrets to upload, the direct database string. */
  processEnv: Record<string, string | undefined>;
  acceptOpenTransferRisk: boolean;
  dryRun: boolean;
  skipMigrations: boolean;
  /** Secret names already set on the deployed Worker; null when they could not be listed (offline dry run). */
  existingSecrets: string[] | null;
}

export interface DeployPlan {
  refusals: string[];
  warnings: string[];
  /** Passed as `--var NAME:VALUE` (explicit values from the operator's environment). */
  varOverrides: Record<string, string>;
  /** Uploaded with the deployment (`--secrets-file`); values never printed. */
  secrets: Record<string, string>;
  /** The direct (unpooled) connection string migrations run on; null when they are skipped or not possible. */
  migrationUrl: string | null;
  cluster: string | null;
}

/** Decides what a deployment of `envName` gets, or why it must not happen. */
export function planDeploy(input: DeployInput): DeployPlan {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const env = input.processEnv;
  const plan: DeployPlan = { refusals, warnings, varOverrides: {}, secrets: {}, migrationUrl: null, cluster: null };
  if (!input.definedEnvs.includes(input.envName)) {
    refusals.push(`wrangler.toml has no [env.${input.envName}] (defined: ${input.definedEnvs.join(", ") || "none"})`);
    return plan;
  }
  const secretNames = new Set<string>(SECRET_NAMES);
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    if (!value || secretNames.has(name)) continue;
    if (LOCAL_ONLY.includes(name)) warnings.push(`${name} is set in this shell but is local-only; not deployed`);
    else plan.varOverrides[name] = value;
  }
  const vars = { ...input.tomlVars, ...plan.varOverrides };
  for (const name of LOCAL_ONLY.filter((n) => input.tomlVars[n])) {
    refusals.push(`[env.${input.envName}.vars] sets ${name}, which is for the local stack only`);
  }
  for (const name of Object.keys(input.tomlVars).filter((n) => secretNames.has(n))) {
    refusals.push(
      `[env.${input.envName}.vars] sets ${name}: it is a secret (remove it; set it in the deploy's environment)`,
    );
  }
  plan.cluster = vars.SOLANA_CLUSTER ?? null;
  if (!plan.cluster)
    refusals.push(`[env.${input.envName}.vars] must set SOLANA_CLUSTER (devnet, testnet or mainnet-beta)`);

  for (const name of SECRET_NAMES) if (env[name]) plan.secrets[name] = env[name]!;
  const known = new Set([...Object.keys(plan.secrets), ...(input.existingSecrets ?? [])]);
  if (plan.cluster === "devnet" && !known.has("SOLANA_RPC_URL")) {
    plan.secrets.SOLANA_RPC_URL = PUBLIC_DEVNET_RPC;
    known.add("SOLANA_RPC_URL");
    warnings.push(
      "SOLANA_RPC_URL: using the public devnet endpoint (rate-limited, no uptime promise); set a provider URL for anything beyond a trial",
    );
  }
  if (plan.cluster === "mainnet-beta") checkMainnet(input, vars, plan);
  checkMint(vars, plan);
  checkRpc(plan);
  checkNotLocal(plan);

  const missing = REQUIRED_SECRETS.filter((name) => !known.has(name));
  if (missing.length > 0) {
    const how = `set them in this shell (uploaded with the deployment) or with \`wrangler secret put <NAME> --env ${input.envName}\``;
    if (input.existingSecrets === null && input.dryRun) {
      warnings.push(
        `secrets not verified (the Worker's secrets could not be listed offline): ${missing.join(", ")}; ${how}`,
      );
    } else {
      refusals.push(`missing secrets: ${missing.join(", ")}; ${how}`);
    }
  }
  if (!known.has("ALERT_WEBHOOK_URL")) warnings.push("ALERT_WEBHOOK_URL is not set: alerts reach the dashboard only");
  if (!known.has("HELIUS_WEBHOOK_SECRET"))
    warnings.push("HELIUS_WEBHOOK_SECRET is not set: POST /webhooks/helius answers 401 (polling still ingests)");
  checkDatabaseUrls(input, plan);
  validateConfig(vars, plan);
  return plan;
}

/** Mainnet: an explicit program and mint (the RPC has no default either), and the operator's acknowledgement of the program's open transfers. */
function checkMainnet(input: DeployInput, vars: Record<string, string>, plan: DeployPlan): void {
  for (const name of ["VAULT_PROGRAM_ID", "USDT_MINT"]) {
    if (!vars[name])
      plan.refusals.push(`mainnet needs an explicit ${name} (set it in this shell); there is no default`);
  }
  if (PROGRAM_LETS_STRANGERS_MOVE_COLLATERAL && !input.acceptOpenTransferRisk) {
    plan.refusals.push(
      `the vault program lets any signer lock, unlock or transfer anyone's collateral (vault-program.md §8.1); deploying it to mainnet needs ${ACK_FLAG}`,
    );
  }
}

/** The mint must belong to the cluster: mainnet USDT on a test cluster, or a test mint on mainnet, is a mistake. */
function checkMint(vars: Record<string, string>, plan: DeployPlan): void {
  const mint = vars.USDT_MINT;
  if (!mint || !plan.cluster) return;
  if (plan.cluster !== "mainnet-beta" && mint === MAINNET_USDT) {
    plan.refusals.push(`USDT_MINT is mainnet USDT but SOLANA_CLUSTER is ${plan.cluster}`);
  }
  if (plan.cluster === "mainnet-beta" && DEVNET_TEST_MINTS.includes(mint)) {
    plan.refusals.push("USDT_MINT is a devnet test mint but SOLANA_CLUSTER is mainnet-beta");
  }
}

/** An RPC URL naming another cluster in its host (public endpoints and most providers do) is refused. */
function checkRpc(plan: DeployPlan): void {
  const urls = [plan.secrets.SOLANA_RPC_URL, plan.secrets.SOLANA_WS_URL].filter(Boolean).flatMap((v) => v!.split(","));
  for (const raw of urls) {
    const host = URL.canParse(raw.trim()) ? new URL(raw.trim()).hostname : "";
    const names = host.includes("devnet")
      ? "devnet"
      : host.includes("testnet")
        ? "testnet"
        : host.includes("mainnet")
          ? "mainnet-beta"
          : null;
    if (names && plan.cluster && names !== plan.cluster) {
      plan.refusals.push(`an RPC endpoint's host names ${names} but SOLANA_CLUSTER is ${plan.cluster}`);
    }
    if (host === "api.mainnet-beta.solana.com") {
      plan.refusals.push("the public mainnet endpoint is not for production traffic; use a provider's endpoint");
    }
  }
}

/** A secret URL on a loopback or private host (a local DATABASE_URL left in the shell) cannot serve a deployment. */
function checkNotLocal(plan: DeployPlan): void {
  for (const name of ["DATABASE_URL", "SOLANA_RPC_URL", "SOLANA_WS_URL", "ALERT_WEBHOOK_URL"]) {
    const hosts = (plan.secrets[name] ?? "")
      .split(/[\s,]+/)
      .map((entry) => entry.replace(/^[a-z]+:(?=[a-z]+:\/\/)/i, ""))
      .filter((entry) => URL.canParse(entry))
      .map((entry) => new URL(entry).hostname);
    if (hosts.some(isLocalHost)) plan.refusals.push(`${name} in this shell points at a local or private host`);
  }
}

function isLocalHost(host: string): boolean {
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127\./.test(host) ||
    /^10\./.test(host) ||
    /^192\.168\./.test(host) ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(host) ||
    host === "[::1]" ||
    host === "0.0.0.0"
  );
}

/** Neon: the pooled (`-pooler`) string for the Worker, the direct one for migrations. */
function checkDatabaseUrls(input: DeployInput, plan: DeployPlan): void {
  const pooled = plan.secrets.DATABASE_URL;
  const host = pooled && URL.canParse(pooled) ? new URL(pooled).hostname : "";
  if (host.endsWith(".neon.tech") && !host.includes("-pooler")) {
    plan.warnings.push(
      "DATABASE_URL is Neon's direct string: the Worker should use the pooled one (host with -pooler)",
    );
  }
  if (input.skipMigrations) return;
  const direct = input.processEnv.MIGRATION_DATABASE_URL;
  if (direct) plan.migrationUrl = direct;
  else if (host.includes("-pooler")) {
    // Neon's direct endpoint is the pooled host without "-pooler" (neon.tech/docs/connect/connection-pooling).
    const url = new URL(pooled!);
    url.hostname = host.replace("-pooler", "");
    plan.migrationUrl = url.toString();
    plan.warnings.push("MIGRATION_DATABASE_URL not set: migrations use DATABASE_URL's host without -pooler");
  } else if (pooled) plan.migrationUrl = pooled;
  if (!plan.migrationUrl && !input.dryRun) {
    plan.refusals.push(
      "migrations need the direct connection string: set MIGRATION_DATABASE_URL (or DATABASE_URL) in this shell, or pass --skip-migrations",
    );
  }
}

/** The Worker's own parser over the values known here (placeholders for secrets only the Worker holds). */
function validateConfig(vars: Record<string, string>, plan: DeployPlan): void {
  const placeholders: Record<string, string> = {
    DATABASE_URL: "postgres://placeholder@db.invalid/placeholder",
    SOLANA_RPC_URL: "https://rpc.invalid",
  };
  try {
    loadConfig({ ...placeholders, ...vars, ...plan.secrets });
  } catch (err) {
    if (err instanceof ConfigError) plan.refusals.push(`configuration invalid: ${err.message}`);
    else throw err;
  }
}
