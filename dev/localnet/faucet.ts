/**
 * `npm run faucet -- <owner> <usdt> [sol]`: funds an owner on a running localnet through /localnet/fund.
 * USDT is given in whole tokens (decimal string, at most 6 decimals) and converted exactly to base units.
 */
import { existsSync, readFileSync } from "node:fs";
import { PublicKey } from "@solana/web3.js";

/** Converts a decimal string of whole tokens to base units without rounding; rejects more than `decimals` places. */
export function toBaseUnits(text: string, decimals: number): bigint {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a non-negative decimal amount: ${text}`);
  const frac = m[2] ?? "";
  if (frac.length > decimals) throw new Error(`at most ${decimals} decimals allowed: ${text}`);
  return BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
}

/** The RPC URL of the running dev stack (.dev/stack.json), else the default localnet port. */
function rpcUrl(): string {
  const file = ".dev/stack.json";
  if (existsSync(file)) {
    const url = (JSON.parse(readFileSync(file, "utf8")) as { rpcUrl?: unknown }).rpcUrl;
    if (typeof url === "string") return url;
  }
  return "http://127.0.0.1:8899";
}

async function main(): Promise<void> {
  const [owner, usdt, sol] = process.argv.slice(2);
  if (!owner || !usdt) throw new Error("usage: npm run faucet -- <owner> <usdt> [sol]");
  const address = new PublicKey(owner).toBase58();
  const body = { address, usdt: toBaseUnits(usdt, 6).toString(), lamports: toBaseUnits(sol ?? "1", 9).toString() };
  const res = await fetch(`${rpcUrl()}/localnet/fund`, { method: "POST", body: JSON.stringify(body) });
  const out = await res.json();
  if (!res.ok) throw new Error(`fund failed (${res.status}): ${JSON.stringify(out)}`);
  console.log(JSON.stringify(out, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
