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
import { createVaultClient } from "../../src/client/index.ts";
import { DEV_DIR } from "../stack.ts";

const stack = JSON.parse(await readFile(join(DEV_DIR, "stack.json"), "utf8")) as Record<string, string>;
const api = stack.apiUrl!;
const wallet = Keypair.generate();
const owner = wallet.publicKey.toBase58();

/** The typed client (src/client): paths, bodies and answers checked against the OpenAPI document at compile time. */
const client = createVaultClient(api);

/** The envelope's data, or an error naming the refusal. */
async function data<R extends { data?: unknown; error?: unknown; response: Response }>(call: Promise<R>) {
  const result = await call;
  if (result.data === undefined) {
    throw new Error(`${result.response.url} → ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return (result.data as { data: NonNullable<R["data"]> extends { data: infer T } ? T : never }).data;
}

type BuildPath = "/vault/initialize" | "/vault/deposit" | "/vault/withdraw";

/** Build → sign locally → submit → wait for finalized. */
async function run(path: BuildPath, body: { userPubkey: string; amount?: number | string }) {
  const built = await data(client.POST(path, { body: body as { userPubkey: string; amount: number } }));
  const tx = VersionedTransaction.deserialize(Buffer.from(built.unsignedTransaction, "base64"));
  tx.sign([wallet]);
  await data(
    client.POST("/vault/submit", {
      body: { signedTransaction: Buffer.from(tx.serialize()).toString("base64"), transactionId: built.transactionId },
    }),
  );
  for (let i = 0; i < 120; i++) {
    const status = await data(client.GET("/transactions/{id}", { params: { path: { id: built.transactionId } } }));
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

const balance = await data(client.GET("/vault/balance/{owner}", { params: { path: { owner } } }));
const history = await data(
  client.GET("/vault/transactions/{owner}", { params: { path: { owner }, query: { limit: "10" } } }),
);
const tvl = await data(client.GET("/vault/tvl"));
const [vault] = findVaultAddress(new PublicKey(stack.programId!), wallet.publicKey);
const connection = new Connection(stack.rpcUrl!, "confirmed");
const onChain = decodeCollateralVault((await connection.getAccountInfo(vault))!.data);
console.log("balance", balance);
console.log(
  "history",
  history.transactions.map((t) => `${t.type} ${t.amount ?? ""} ${t.status}`),
);
console.log("tvl", tvl);
const agrees = BigInt(String(balance.totalBalance)) === onChain.totalBalance && onChain.totalBalance === 125_000_000n;
console.log(agrees ? "balance agrees with the chain" : "MISMATCH between API and chain");
process.exit(agrees ? 0 : 1);
