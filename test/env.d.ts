// Secrets and test-only bindings that wrangler.toml cannot declare (see vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    DATABASE_URL: string;
    NEON_WS_PROXY: string;
    SOLANA_RPC_URL: string;
    SOLANA_WS_URL: string;
  }
}
