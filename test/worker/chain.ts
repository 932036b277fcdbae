/** Test-side access to the localnet: funding through its dev controls, signing with throw-away wallets. */
import { Keypair, Transaction, type TransactionInstruction, VersionedTransaction } from "@solana/web3.js";
import { inject } from "vitest";
import { eventually } from "../eventually.ts";

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

/** Calls a localnet's JSON-RPC directly (as a wallet that never talks to the backend would). */
export async function rpcAt<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** The shared localnet's JSON-RPC. */
export function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  return rpcAt<T>(inject("rpcUrl"), method, params);
}

/** Signs instructions (first signer pays) and sends them straight to a localnet; returns the signature. */
export async function sendSigned(
  ixs: TransactionInstruction[],
  signers: Keypair[],
  opts: { url?: string; skipPreflight?: boolean } = {},
): Promise<string> {
  const url = opts.url ?? inject("rpcUrl");
  const { value } = await rpcAt<{ value: { blockhash: string; lastValidBlockHeight: number } }>(
    url,
    "getLatestBlockhash",
    [{ commitment: "confirmed" }],
  );
  const tx = new Transaction({ feePayer: signers[0]!.publicKey, ...value }).add(...ixs);
  tx.sign(...signers);
  const wire = btoa(String.fromCharCode(...tx.serialize()));
  return rpcAt<string>(url, "sendTransaction", [wire, { encoding: "base64", skipPreflight: opts.skipPreflight }]);
}

/** Waits until the signature is confirmed on a localnet; a failed transaction throws at once when `failOnError`. */
export async function confirmed(signature: string, opts: { url?: string; failOnError?: boolean } = {}) {
  const url = opts.url ?? inject("rpcUrl");
  let failure: unknown = null;
  await eventually(async () => {
    const { value } = await rpcAt<{ value: ({ confirmationStatus: string; err: unknown } | null)[] }>(
      url,
      "getSignatureStatuses",
      [[signature]],
    );
    const status = value[0];
    if (opts.failOnError && status?.err) {
      failure = status.err;
      return true;
    }
    const level = status?.confirmationStatus;
    return level === "confirmed" || level === "finalized" ? true : undefined;
  });
  if (failure) throw new Error(`transaction failed: ${JSON.stringify(failure)}`);
}
