/**
 * The README's client walkthrough, runnable: a throw-away local wallet initializes a vault, deposits and withdraws
 * through the API (the wallet signs; the backend never sees its key), waits for each request to reach `finalized`,
 * then compares balance, history and TVL with the chain.
 *
 *   npm run dev        (in another terminal)
 *   node dev/scripts/api-walkthrough.ts
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Connection, Keypair, PublicKey, VersionedTransaction } from "@solana/web3.js";
import { decodeCollateralVault, findVaultAddress } from "../../src/chain/program/index.ts";
import { DEV_DIR } from "../stack.ts";

const stack = JSON.parse(await readFile(join(DEV_DIR, "stack.json"), "utf8")) as Record<string, string>;
const api = stack.apiUrl!;
const wallet = Keypair.generate();
const owner = wallet.publicKey.toBase58();

async function request(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as { success: boolean; data?: Record<string, unknown>; error?: unknown };
  if (!json.success) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json.error)}`);
  return json.data!;
}

/** Build → sign locally → submit → wait for finalized. */
async function run(path: string, body: Record<string, unknown>) {
  const built = await request("POST", path, body);
  const tx = VersionedTransaction.deserialize(Buffer.from(String(built.unsignedTransaction), "base64"));
  tx.sign([wallet]);
  await request("POST", "/vault/submit", {
    signedTransaction: Buffer.from(tx.serialize()).toString("base64"),
    transactionId: built.transactionId,
  });
  for (let i = 0; i < 120; i++) {
    const status = await request("GET", `/transactions/${built.transactionId}`);
    if (status.status === "finalized") {
      console.log(`${path} ${JSON.stringify(body)} → finalized (${status.signature})`);
      return;
    }
    if (status.status === "failed" || status.status === "expired")
      throw new Error(`${path}: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${path}: not finalized in time`);
}

await fetch(`${stack.rpcUrl}/localnet/fund`, {
  method: "POST",
  body: JSON.stringify({ address: owner, lamports: "2000000000", usdt: "250000000" }),
});
await run("/vault/initialize", { userPubkey: owner });
await run("/vault/deposit", { userPubkey: owner, amount: 200_000_000 });
await run("/vault/withdraw", { userPubkey: owner, amount: "75000000" });

const balance = await request("GET", `/vault/balance/${owner}`);
const history = await request("GET", `/vault/transactions/${owner}?limit=10`);
const tvl = await request("GET", "/vault/tvl");
const [vault] = findVaultAddress(new PublicKey(stack.programId!), wallet.publicKey);
const connection = new Connection(stack.rpcUrl!, "confirmed");
const onChain = decodeCollateralVault((await connection.getAccountInfo(vault))!.data);
console.log("balance", balance);
console.log(
  "history",
  (history.transactions as { type: string; status: string; amount: unknown }[]).map(
    (t) => `${t.type} ${t.amount ?? ""} ${t.status}`,
  ),
);
console.log("tvl", tvl);
const agrees = BigInt(String(balance.totalBalance)) === onChain.totalBalance && onChain.totalBalance === 125_000_000n;
console.log(agrees ? "balance agrees with the chain" : "MISMATCH between API and chain");
process.exit(agrees ? 0 : 1);
