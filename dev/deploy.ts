/**
 * `npm run deploy -- --env <name> [--dry-run] [--accept-open-transfer-risk] [--skip-migrations]`
 *
 * 1. checks the environment's configuration and secrets (dev/deploy-plan.ts) and refuses with the reasons;
 * 2. builds the dashboard without source maps (and its CSP headers);
 * 3. bundles the Worker (`wrangler deploy --dry-run`, offline) and checks its size;
 * 4. unless --dry-run: applies the database migrations over the direct connection string, then deploys with
 *    `wrangler deploy --env <name>`, uploading the secrets found in this shell with the new version (one step, so
 *    code and secrets change together). Secret values are never printed, only their names.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { buildDashboard } from "./build-dashboard.ts";
import { ACK_FLAG, type DeployPlan, planDeploy } from "./deploy-plan.ts";
import { applyMigrations } from "./migrate.ts";
import { writeOperationsIndex } from "./operations-index.ts";
import { DEV_DIR, ROOT } from "./stack.ts";

const CONFIG_PATH = join(ROOT, "wrangler.toml");
/** Workers Paid: 10 MB per Worker after compression (developers.cloudflare.com/workers/platform/limits). */
const MAX_GZIP_BYTES = 10 * 1024 * 1024;

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const envName = args[args.indexOf("--env") + 1];
const definedEnvs = Object.keys(experimental_readRawConfig({ config: CONFIG_PATH }).rawConfig.env ?? {});

if (flag("--list-envs")) {
  console.log(definedEnvs.join("\n"));
  process.exit(0);
}
if (!args.includes("--env") || !envName || envName.startsWith("--")) {
  console.error(
    `usage: npm run deploy -- --env <${definedEnvs.join("|")}> [--dry-run] [${ACK_FLAG}] [--skip-migrations]`,
  );
  process.exit(2);
}

const dryRun = flag("--dry-run");
try {
  await main();
} catch (err) {
  console.error(`deploy failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const title = `${dryRun ? "dry run: " : ""}deploy --env ${envName}`;
  console.log(`== ${title}`);
  const tomlVars = definedEnvs.includes(envName!)
    ? { ...unstable_readConfig({ config: CONFIG_PATH, env: envName }, { hideWarnings: true }).vars }
    : {};
  const plan = planDeploy({
    envName: envName!,
    definedEnvs,
    tomlVars: tomlVars as Record<string, string>,
    processEnv: process.env,
    acceptOpenTransferRisk: flag(ACK_FLAG),
    dryRun,
    skipMigrations: flag("--skip-migrations"),
    existingSecrets: await listSecrets(),
  });
  report(plan);
  if (plan.refusals.length > 0) {
    console.error(`\nrefused (${plan.refusals.length}):\n${plan.refusals.map((r) => `  ✗ ${r}`).join("\n")}`);
    process.exit(1);
  }
  await writeOperationsIndex();
  await buildDashboard({ sourcemap: false, extraConnectSrc: [] });
  console.log("dashboard  built without source maps; CSP in dist/site/_headers");
  await bundleCheck(plan);
  if (dryRun) {
    console.log(`\n${title}: every check passed; nothing was deployed`);
    return;
  }
  if (plan.migrationUrl) {
    await applyMigrations(plan.migrationUrl);
    console.log("migrations applied (direct connection)");
  } else console.log("migrations skipped (--skip-migrations)");
  await withSecretsFile(plan.secrets, (file) =>
    wrangler(["deploy", "--env", envName!, ...varArgs(plan), ...(file ? ["--secrets-file", file] : [])], "inherit"),
  );
  console.log(`\ndeployed. Check it end to end: npm run smoke -- https://<the URL above>`);
}

/** What will be deployed, by name only for secrets. */
function report(plan: DeployPlan): void {
  console.log(`cluster    ${plan.cluster ?? "?"}`);
  const overrides = Object.keys(plan.varOverrides);
  if (overrides.length > 0) console.log(`vars       from this shell: ${overrides.join(", ")}`);
  const secrets = Object.keys(plan.secrets);
  console.log(`secrets    uploaded with the deployment: ${secrets.length > 0 ? secrets.join(", ") : "none"}`);
  for (const w of plan.warnings) console.log(`  ! ${w}`);
}

/** Bundles the Worker offline into .dev/deploy-<env>/ and checks the compressed size against the plan's limit. */
async function bundleCheck(plan: DeployPlan): Promise<void> {
  const outdir = join(DEV_DIR, `deploy-${envName}`);
  await rm(outdir, { recursive: true, force: true });
  await wrangler(["deploy", "--env", envName!, "--dry-run", "--outdir", outdir, ...varArgs(plan)], "quiet");
  const gzip = gzipSync(await readFile(join(outdir, "index.js"))).length;
  console.log(`bundle     ${(gzip / 1024).toFixed(0)} KiB gzip (limit ${MAX_GZIP_BYTES / 1024 / 1024} MiB)`);
  if (gzip > MAX_GZIP_BYTES) throw new Error("the Worker bundle exceeds the Workers size limit");
}

function varArgs(plan: DeployPlan): string[] {
  return Object.entries(plan.varOverrides).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
}

/** The deployed Worker's secret names; [] for a Worker not deployed yet; null when they cannot be listed offline. */
async function listSecrets(): Promise<string[] | null> {
  if (dryRun && !process.env.CLOUDFLARE_API_TOKEN) return null;
  if (!definedEnvs.includes(envName!)) return null;
  try {
    const out = await wrangler(["secret", "list", "--env", envName!, "--format", "json"], "capture");
    return (JSON.parse(out) as { name: string }[]).map((s) => s.name);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/not found|does not exist|10007/i.test(message)) return [];
    if (dryRun) return null;
    throw new Error(`could not list the Worker's secrets: ${message}`);
  }
}

/** Writes the secrets to a private temporary file for `--secrets-file`, and always deletes it. */
async function withSecretsFile<T>(secrets: Record<string, string>, work: (file: string | null) => Promise<T>) {
  if (Object.keys(secrets).length === 0) return work(null);
  const dir = await mkdtemp(join(tmpdir(), "vault-deploy-"));
  const file = join(dir, "secrets.json");
  try {
    await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
    return await work(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs wrangler (Node 22, no telemetry); "capture" returns stdout, "quiet" shows output only on failure. */
function wrangler(argv: string[], mode: "inherit" | "capture" | "quiet"): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...argv], {
      cwd: ROOT,
      stdio: ["ignore", mode === "inherit" ? "inherit" : "pipe", mode === "inherit" ? "inherit" : "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) return resolve(out);
      if (mode === "quiet") console.error(out + err);
      reject(
        new Error(
          `wrangler ${argv[0]} exited with ${code}${mode === "capture" ? `: ${err.trim().split("\n")[0]}` : ""}`,
        ),
      );
    });
  });
}
