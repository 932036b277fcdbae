/**
 * The Worker variables `npm run dev` takes from its own environment: every variable of src/config.ts that is set
 * (ALERT_WEBHOOK_URL, LOG_LEVEL, the rate limits, …), except those that must point at what the stack started.
 */
import { CONFIG_VARIABLES } from "../src/config.ts";

/** Variables the stack always sets itself: the database it started or chose, and its Neon proxy. */
const STACK_OWNED = ["DATABASE_URL", "NEON_WS_PROXY", "DEV_LOCALNET_URL"];
/** Chain variables: the localnet's when the stack runs one, the environment's for a real cluster. */
const CHAIN = ["SOLANA_RPC_URL", "SOLANA_WS_URL", "VAULT_PROGRAM_ID", "USDT_MINT"];

/** The config variables set (non-empty) in `env` that the Worker should receive as they are. */
export function workerVarsFromEnv(env: NodeJS.ProcessEnv, opts: { localChain: boolean }): Record<string, string> {
  const skipped = new Set([...STACK_OWNED, ...(opts.localChain ? CHAIN : [])]);
  return Object.fromEntries(
    CONFIG_VARIABLES.filter((name) => !skipped.has(name) && env[name]).map((name) => [name, env[name]!]),
  );
}

/**
 * Merges the stack's variables with the environment's: the environment wins, except that API keys are joined (the
 * stack's local keys keep working for its tools, the operator's work too).
 */
export function mergeWorkerVars(
  stack: Record<string, string>,
  fromEnv: Record<string, string>,
): Record<string, string> {
  const merged = { ...stack, ...fromEnv };
  if (stack.API_KEYS && fromEnv.API_KEYS) merged.API_KEYS = `${fromEnv.API_KEYS},${stack.API_KEYS}`;
  return merged;
}
