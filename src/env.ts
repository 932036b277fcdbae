/** Bindings: the vars of wrangler.toml (typed by `wrangler types`) plus secrets, which wrangler.toml cannot list. */
export interface Bindings extends Env {
  DATABASE_URL?: string;
  /** Secrets: a provider's URL carries its API key. */
  SOLANA_RPC_URL?: string;
  SOLANA_WS_URL?: string;
  API_KEYS?: string;
  HELIUS_WEBHOOK_SECRET?: string;
  ALERT_WEBHOOK_URL?: string;
  NEON_WS_PROXY?: string;
}
