/** What test/global-setup.ts provides to the test projects (`inject(...)`). */
declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    neonWsProxy: string;
    /** The proxy's `POST /sql` without its WebSocket tunnel (a pool opened through it fails). */
    neonSqlOnlyProxy: string;
    rpcUrl: string;
    rpcWsUrl: string;
    programId: string;
    usdtMint: string;
    localnetAdminSecret: number[];
    mintAuthoritySecret: number[];
    /** A second localnet (same program id and mint) for tests that pause the program or otherwise disturb others. */
    isolatedRpcUrl: string;
    isolatedAdminSecret: number[];
    /** `provider` project only: the localnet front with the provider profile (the Worker's SOLANA_RPC_URL). */
    providerRpcUrl: string;
    /** `provider` project only: an ideal front over the same chain, the Worker's SOLANA_ARCHIVE_RPC_URL. */
    archiveRpcUrl: string;
    /** dev/webhook-receiver.ts: records alert webhook calls per path, fails on request. */
    webhookReceiverUrl: string;
  }
}

export {};
