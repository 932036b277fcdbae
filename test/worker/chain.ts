/** Test-side access to the localnet: funding through its dev controls, signing with throw-away wallets. */
import { Keypair, VersionedTransaction } from "@solana/web3.js";
import { inject } from "vitest";

/** POSTs to one of the localnet's /localnet/ controls. */
export async function localnetControl<T = unknown>(path: string, body: unknown = {}): Promise<T> {
  const res = await fetch(`${inject("rpcUrl")}/localnet/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`localnet ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A fresh wallet with `sol` SOL and `usdt` base units of the test USDT. */
export async function fundedWallet(opts: { lamports?: bigint; usdt?: bigint } = {}): Promise<Keypair> {
  const wallet = Keypair.generate();
  await localnetControl("fund", {
    address: wallet.publicKey.toBase58(),
    lamports: (opts.lamports ?? 2_000_000_000n).toString(),
    ...(opts.usdt !== undefined ? { usdt: opts.usdt.toString() } : {}),
  });
  return wallet;
}

/** Signs an unsigned base64 transaction from the API with the wallet, as a wallet app would. */
export function signBase64(unsigned: string, ...signers: Keypair[]): string {
  const tx = VersionedTransaction.deserialize(Uint8Array.from(atob(unsigned), (c) => c.charCodeAt(0)));
  tx.sign(signers);
  return btoa(String.fromCharCode(...tx.serialize()));
}

/** Calls the localnet's JSON-RPC directly (as a wallet that never talks to the backend would). */
export async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(inject("rpcUrl"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}
