import { Hono } from "hono";
import type { AppEnv } from "../../env.ts";
import { ok } from "../envelope.ts";
import { documentRoutes } from "../openapi.ts";
import { VERSION } from "./health.ts";

/**
 * GET /dashboard/config: what the dashboard page (static assets under /dashboard/) needs from the server — above
 * all whether the chain is the local one, which is decided by the explicit DEV_LOCALNET_URL (set by `npm run dev`
 * and the tests), never guessed from SOLANA_RPC_URL. GET / sends people to the page.
 */
export const dashboardRoutes = new Hono<AppEnv>()
  .get("/", (c) => c.redirect("/dashboard/", 302))
  .get("/dashboard/config", (c) => {
    const { config } = c.get("services");
    const local = config.devLocalnetUrl;
    return ok(c, {
      cluster: local ? "localnet" : clusterName(config.rpcUrls[0] ?? ""),
      localnet: local ? { rpcUrl: local, faucetUrl: `${local}/localnet/fund` } : null,
      programId: config.programId.toBase58(),
      usdtMint: config.usdtMint.toBase58(),
      version: VERSION,
    });
  });

/** A label for the header only ("devnet", "mainnet-beta", or the RPC host); never used to decide anything. */
function clusterName(rpcUrl: string): string {
  const host = URL.canParse(rpcUrl) ? new URL(rpcUrl).host : "unknown";
  if (host.includes("devnet")) return "devnet";
  if (host.includes("testnet")) return "testnet";
  if (host.includes("mainnet")) return "mainnet-beta";
  return host;
}

documentRoutes([
  {
    method: "get",
    path: "/",
    summary: "Redirects to the dashboard page (/dashboard/)",
    tag: "system",
    success: 302,
    errors: [],
  },
  {
    method: "get",
    path: "/dashboard/config",
    summary: "What the dashboard page needs: cluster, program, mint, and the localnet faucet when local",
    tag: "system",
    success: 200,
    errors: ["CONFIG_INVALID"],
  },
]);
