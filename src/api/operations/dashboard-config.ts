import { VERSION } from "../../lib/version.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { dashboardConfigData } from "../responses.ts";

/**
 * What the dashboard page (static assets under /dashboard/) needs from the server — above all whether the chain is
 * the local one, which is decided by the explicit DEV_LOCALNET_URL (set by `npm run dev` and the tests), never
 * guessed from SOLANA_RPC_URL.
 */
export default defineOperation({
  method: "get",
  path: "/dashboard/config",
  summary: "What the dashboard page needs: cluster, program, mint, and the localnet faucet when local",
  tag: "system",
  success: { status: 200, data: dashboardConfigData },
  errors: [],
  handler: (c) => {
    const { config } = c.get("services");
    const local = config.devLocalnetUrl;
    return ok(c, {
      cluster: local ? "localnet" : (config.solanaCluster ?? clusterName(config.rpcUrls[0] ?? "")),
      localnet: local ? { rpcUrl: local, faucetUrl: `${local}/localnet/fund` } : null,
      programId: config.programId.toBase58(),
      usdtMint: config.usdtMint.toBase58(),
      version: VERSION,
    });
  },
});

/**
 * A label for the header only when SOLANA_CLUSTER is not set ("devnet", "mainnet-beta", or "custom"); never used to
 * decide anything, and never the RPC host: a provider's URL is a secret (some carry their key in the host name).
 */
function clusterName(rpcUrl: string): string {
  const host = URL.canParse(rpcUrl) ? new URL(rpcUrl).host : "";
  if (host.includes("devnet")) return "devnet";
  if (host.includes("testnet")) return "testnet";
  if (host.includes("mainnet")) return "mainnet-beta";
  return "custom";
}
