/**
 * The smoke test's wallet flow: initialize (when the vault is missing), deposit and withdraw through the API, each
 * signed here and followed to `finalized`, then the balance, the history and the owner's socket events checked.
 */
import { type Keypair, VersionedTransaction } from "@solana/web3.js";
import { type Api, check, type Socket } from "./smoke-support.ts";

const FINALIZED_WITHIN_MS = 180_000;

interface Built {
  transactionId: string;
  unsignedTransaction: string;
}

export async function smokeWallet(api: Api, wallet: Keypair, amount: bigint): Promise<void> {
  const owner = wallet.publicKey.toBase58();
  const config = (await api.get("/dashboard/config")).data as {
    cluster: string;
    localnet: { faucetUrl: string } | null;
  };
  console.log(`wallet ${owner} on ${config.cluster}, amount ${amount} base units`);
  if (config.localnet) {
    const faucet = config.localnet.faucetUrl;
    await check("the localnet faucet funds the wallet with SOL and USDT", async () => {
      const res = await fetch(faucet, {
        method: "POST",
        body: JSON.stringify({ address: owner, lamports: "2000000000", usdt: String(amount * 10n) }),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`faucet answered ${res.status}`);
    });
  }
  const socket = await api.socket(owner);
  try {
    await check("initialize_vault is built, signed, relayed and finalized (or the vault exists)", async () => {
      const built = await api.post("/vault/initialize", { userPubkey: owner });
      if (built.error?.code === "VAULT_ALREADY_EXISTS") return "the wallet already has a vault";
      built.expect(200);
      return finalize(api, wallet, built.data as Built);
    });
    const before = await totalBalance(api, owner);
    const deposit = await movement(api, wallet, socket, "deposit", amount, before + amount);
    const withdraw = await movement(api, wallet, socket, "withdraw", amount, before);
    await check("the history lists the deposit and the withdrawal", async () => {
      const res = await api.get(`/vault/transactions/${owner}?limit=20`);
      res.expect(200);
      const rows = (res.data as { transactions: { type: string; signature: string | null }[] }).transactions;
      for (const [type, signature] of [
        ["deposit", deposit],
        ["withdrawal", withdraw],
      ] as const) {
        if (signature && !rows.some((r) => r.type === type && r.signature === signature)) {
          throw new Error(`no ${type} with signature ${signature}`);
        }
      }
    });
  } finally {
    socket.close();
  }
}

/** A deposit or withdrawal end to end; returns its signature (null when the step failed). */
async function movement(
  api: Api,
  wallet: Keypair,
  socket: Socket,
  kind: "deposit" | "withdraw",
  amount: bigint,
  expectedTotal: bigint,
): Promise<string | null> {
  const owner = wallet.publicKey.toBase58();
  let signature: string | null = null;
  await check(`${kind} of ${amount} is built, signed, relayed and finalized`, async () => {
    const built = await api.post(`/vault/${kind}`, { userPubkey: owner, amount: amount.toString() });
    if (built.error) {
      const hint = ["INSUFFICIENT_SOL", "TOKEN_ACCOUNT_NOT_FOUND", "INSUFFICIENT_TOKEN_BALANCE"].includes(
        built.error.code,
      )
        ? " — fund the wallet with SOL and the deployment's USDT mint first"
        : "";
      throw new Error(`${built.status} ${built.error.code}: ${built.error.message}${hint}`);
    }
    signature = await finalize(api, wallet, built.data as Built);
    return signature;
  });
  if (!signature) return null;
  await check(`the balance reflects the ${kind} (total ${expectedTotal})`, async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const total = await totalBalance(api, owner);
      if (total === expectedTotal) return;
      if (Date.now() > deadline) throw new Error(`total is ${total}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  });
  await check(`the owner's socket was told of the ${kind}`, async () => {
    await socket.next((m) => m.event === "transaction_confirmed" && m.data.signature === signature, 60_000);
  });
  return signature;
}

/** Signs, relays, and follows the request to `finalized`; returns its signature. */
async function finalize(api: Api, wallet: Keypair, built: Built): Promise<string> {
  const tx = VersionedTransaction.deserialize(Buffer.from(built.unsignedTransaction, "base64"));
  tx.sign([wallet]);
  const signed = Buffer.from(tx.serialize()).toString("base64");
  (await api.post("/vault/submit", { signedTransaction: signed, transactionId: built.transactionId })).expect(202);
  const deadline = Date.now() + FINALIZED_WITHIN_MS;
  for (;;) {
    const res = await api.get(`/transactions/${built.transactionId}`);
    res.expect(200);
    const data = res.data as { status: string; signature?: string; error?: unknown };
    if (data.status === "finalized") return data.signature ?? "";
    if (data.status === "failed" || data.status === "expired")
      throw new Error(`${data.status}: ${JSON.stringify(data)}`);
    if (Date.now() > deadline) throw new Error(`still ${data.status} after ${FINALIZED_WITHIN_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The vault's recorded total (0 when there is no vault yet). */
async function totalBalance(api: Api, owner: string): Promise<bigint> {
  const res = await api.get(`/vault/balance/${owner}`);
  if (res.error?.code === "VAULT_NOT_FOUND") return 0n;
  res.expect(200);
  return BigInt(String((res.data as { totalBalance: unknown }).totalBalance));
}
