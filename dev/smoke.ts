/**
 * `npm run smoke -- <base-url> [--wallet <keypair.json>] [--amount <base units>] [--admin-key <key>]`
 *
 * A black-box check of a deployment, through its public HTTP and WebSocket API only: health, the API reference,
 * builds refused with the right codes, TVL, a WebSocket snapshot, the dashboard's security headers, and with an
 * admin key (`--admin-key` or SMOKE_ADMIN_KEY) /metrics and /monitor/alerts. With `--wallet` (a Solana CLI keypair
 * file) it also initializes the wallet's vault when missing, deposits and withdraws `--amount` (default 1 USDT),
 * signing locally and following each request to `finalized`, and checks the balance, the history and the socket's
 * events. On a localnet (the deployment says so in /dashboard/config) the wallet is funded from its faucet; on
 * devnet it must already hold SOL and the deployment's test mint. Exits 1 when any check fails.
 */
import { readFile } from "node:fs/promises";
import { Keypair } from "@solana/web3.js";
import { type Api, check, client, summary } from "./smoke-support.ts";
import { smokeWallet } from "./smoke-wallet.ts";

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const base = args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
if (!base || !URL.canParse(base)) {
  console.error(
    "usage: npm run smoke -- <base-url> [--wallet <keypair.json>] [--amount <base units>] [--admin-key <key>]",
  );
  process.exit(2);
}
const api: Api = client(base.replace(/\/+$/, ""));
const adminKey = option("--admin-key") ?? process.env.SMOKE_ADMIN_KEY;

console.log(`smoke test of ${api.base}`);

await check("GET /health is healthy (database and RPC)", async () => {
  const res = await api.get("/health");
  res.expect(200);
  const data = res.data as { status: string; database: boolean; solanaRpc: boolean; version: string };
  if (data.status !== "healthy" || !data.database || !data.solanaRpc) throw new Error(JSON.stringify(data));
  return `version ${data.version}`;
});

await check("GET /openapi.json and GET /docs describe the API", async () => {
  const doc = await api.raw("/openapi.json");
  const json = (await doc.json()) as { openapi?: string; paths?: Record<string, unknown> };
  if (doc.status !== 200 || json.openapi !== "3.1.0" || !json.paths?.["/vault/deposit"]) {
    throw new Error(`openapi.json answered ${doc.status}`);
  }
  const page = await api.raw("/docs");
  if (page.status !== 200 || !(page.headers.get("content-type") ?? "").startsWith("text/html")) {
    throw new Error(`/docs answered ${page.status}`);
  }
  await page.body?.cancel();
  return `${Object.keys(json.paths).length} paths`;
});

await check("responses carry the security headers (CSP, nosniff, request id)", async () => {
  const res = await api.raw("/vault/tvl");
  await res.body?.cancel();
  for (const name of ["content-security-policy", "x-content-type-options", "x-request-id"]) {
    if (!res.headers.get(name)) throw new Error(`missing ${name}`);
  }
});

await check("the dashboard is served with its CSP and without source maps", async () => {
  const page = await api.raw("/dashboard/");
  await page.body?.cancel();
  if (page.status !== 200) throw new Error(`/dashboard/ answered ${page.status}`);
  const csp = page.headers.get("content-security-policy") ?? "";
  if (!csp.includes("script-src 'self'")) throw new Error(`no dashboard CSP (got "${csp}")`);
  const map = await api.raw("/dashboard/app.js.map");
  await map.body?.cancel();
  return map.status === 200 ? "source map present (local build)" : "no source map";
});

await check("a build with a malformed owner is refused with INVALID_PUBKEY (400)", async () => {
  (await api.post("/vault/deposit", { userPubkey: "not-a-public-key", amount: 1 })).expectError(400, "INVALID_PUBKEY");
});

await check("a deposit for a wallet without a vault is refused with VAULT_NOT_FOUND (404)", async () => {
  const stranger = Keypair.generate().publicKey.toBase58();
  (await api.post("/vault/deposit", { userPubkey: stranger, amount: 1 })).expectError(404, "VAULT_NOT_FOUND");
});

await check("GET /vault/tvl answers the locked total", async () => {
  const res = await api.get("/vault/tvl");
  res.expect(200);
  const data = res.data as { totalValueLocked: unknown; formattedTvl: string; activeVaults: number };
  if (data.totalValueLocked === undefined || typeof data.activeVaults !== "number")
    throw new Error(JSON.stringify(data));
  return `${data.formattedTvl} in ${data.activeVaults} vaults`;
});

await check("a WebSocket receives its snapshot on connect", async () => {
  const owner = Keypair.generate().publicKey.toBase58();
  const socket = await api.socket(owner);
  try {
    const first = await socket.next((m) => m.event === "snapshot", 10_000);
    if ((first.data as { owner?: string }).owner !== owner) throw new Error(JSON.stringify(first));
  } finally {
    socket.close();
  }
});

if (adminKey) {
  await check("GET /metrics (admin) answers Prometheus text", async () => {
    const res = await api.raw("/metrics", { "x-api-key": adminKey });
    const text = await res.text();
    if (res.status !== 200 || !(res.headers.get("content-type") ?? "").startsWith("text/plain")) {
      throw new Error(`/metrics answered ${res.status}`);
    }
    if (!/^# TYPE vault_\w+ (counter|gauge)/m.test(text)) throw new Error("no vault_ metrics");
    return `${text.split("\n").filter((l) => l && !l.startsWith("#")).length} samples`;
  });
  await check("GET /monitor/alerts (admin) answers", async () => {
    (await api.get("/monitor/alerts", { "x-api-key": adminKey })).expect(200);
  });
}
await check("GET /metrics without a key is refused with UNAUTHORIZED (401)", async () => {
  (await api.get("/metrics")).expectError(401, "UNAUTHORIZED");
});

const walletFile = option("--wallet");
if (walletFile) {
  const secret = JSON.parse(await readFile(walletFile, "utf8")) as number[];
  const wallet = Keypair.fromSecretKey(Uint8Array.from(secret));
  await smokeWallet(api, wallet, BigInt(option("--amount") ?? "1000000"));
}

process.exit(summary() ? 0 : 1);
