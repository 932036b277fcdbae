/**
 * The local dev wallet (localnet only): a throw-away keypair in localStorage, funded by the localnet faucet, signing
 * the API's unsigned transactions in the page and relaying them through POST /vault/submit.
 */
import { Keypair, VersionedTransaction } from "@solana/web3.js";
import { ApiError, api, client, describeError, typed } from "./api.ts";
import { byId, say } from "./dom.ts";
import { formatUsdt, parseUsdt } from "./format.ts";
import { refreshOwner, showOwner } from "./vault-view.ts";

const WALLET_KEY = "vault-dashboard.dev-wallet";
const FUND_LAMPORTS = 2_000_000_000n;
const FUND_USDT = 1_000_000_000n;
const DONE = new Set(["confirmed", "finalized", "failed", "expired"]);

export interface LocalnetInfo {
  rpcUrl: string;
  faucetUrl: string;
}

let wallet: Keypair | null = null;
let faucetUrl = "";

function loadWallet(): Keypair | null {
  const stored = localStorage.getItem(WALLET_KEY);
  if (!stored) return null;
  try {
    return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(stored) as number[]));
  } catch {
    localStorage.removeItem(WALLET_KEY);
    return null;
  }
}

function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Shows the wallet panel and wires its buttons (called only when the server says the chain is the localnet). */
export function initDevWallet(info: LocalnetInfo): void {
  faucetUrl = info.faucetUrl;
  byId("dev-wallet").hidden = false;
  wallet = loadWallet();
  render();
  byId("wallet-create").addEventListener("click", () => {
    if (wallet && !confirm("Replace the current dev wallet? Its key will be forgotten.")) return;
    wallet = Keypair.generate();
    localStorage.setItem(WALLET_KEY, JSON.stringify(Array.from(wallet.secretKey)));
    render();
    say(byId("wallet-status"), "New wallet created. Fund it next.", "ok");
    showOwner(wallet.publicKey.toBase58());
  });
  byId("wallet-fund").addEventListener("click", () => void guarded(fund));
  byId("wallet-init").addEventListener(
    "click",
    () => void guarded(() => relay("initialize", "/vault/initialize", { userPubkey: address() })),
  );
  byId<HTMLFormElement>("wallet-move").addEventListener("submit", (e) => {
    e.preventDefault();
    const action = (e.submitter as HTMLButtonElement | null)?.value === "withdraw" ? "withdraw" : "deposit";
    const units = parseUsdt(byId<HTMLInputElement>("wallet-amount").value);
    if (units === null) {
      say(byId("wallet-status"), "Enter a positive amount with at most 6 decimals. (INVALID_AMOUNT)", "error");
      return;
    }
    void guarded(() => relay(action, `/vault/${action}`, { userPubkey: address(), amount: units.toString() }));
  });
}

function address(): string {
  if (!wallet) throw new Error("Create a wallet first");
  return wallet.publicKey.toBase58();
}

function render(): void {
  byId("wallet-address").textContent = wallet ? wallet.publicKey.toBase58() : "none yet";
  for (const id of ["wallet-fund", "wallet-init", "wallet-deposit", "wallet-withdraw"]) {
    byId<HTMLButtonElement>(id).disabled = wallet === null;
  }
}

/** Runs one wallet action with the buttons disabled, reporting errors in plain words with their code. */
async function guarded(action: () => Promise<void>): Promise<void> {
  const buttons = [...byId("dev-wallet").querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  try {
    await action();
  } catch (err) {
    say(byId("wallet-status"), describeError(err), "error");
  } finally {
    for (const b of buttons) b.disabled = false;
    render();
  }
}

async function fund(): Promise<void> {
  const status = byId("wallet-status");
  say(status, "Asking the localnet faucet…");
  let res: Response;
  try {
    res = await fetch(faucetUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: address(), lamports: FUND_LAMPORTS.toString(), usdt: FUND_USDT.toString() }),
    });
  } catch {
    throw new ApiError("FAUCET_UNREACHABLE", `The localnet faucet at ${faucetUrl} could not be reached`, 0);
  }
  if (!res.ok) throw new ApiError(`FAUCET_HTTP_${res.status}`, `The faucet refused: ${await res.text()}`, res.status);
  say(status, `Funded with 2 SOL and ${formatUsdt(FUND_USDT)}. Initialize the vault next.`, "ok");
}

/** Build → sign here → relay → wait for the chain, telling the user each step. */
async function relay(label: string, path: string, body: Record<string, string>): Promise<void> {
  const status = byId("wallet-status");
  const signer = wallet;
  if (!signer) throw new Error("Create a wallet first");
  if (!byId<HTMLInputElement>("owner").value.includes(signer.publicKey.toBase58())) showOwner(address());
  say(status, `${label}: building the transaction…`);
  const built = await api<{ transactionId: string; unsignedTransaction: string }>(path, { body });
  const tx = VersionedTransaction.deserialize(fromBase64(built.unsignedTransaction));
  tx.sign([signer]);
  say(status, `${label}: signed in this browser, relaying…`);
  await api("/vault/submit", {
    body: { signedTransaction: toBase64(tx.serialize()), transactionId: built.transactionId },
  });
  const final = await waitForStatus(built.transactionId, (s) => say(status, `${label}: ${s}…`));
  if (final.status === "failed" || final.status === "expired") {
    const e = final.error as { code?: string; name?: string; message?: string } | null;
    const detail = e?.message ?? e?.name ?? "the chain rejected it";
    say(status, `${label} ${final.status}: ${detail} (${e?.code ?? final.status.toUpperCase()})`, "error");
  } else {
    say(status, `${label} ${final.status}.`, "ok");
  }
  // The live feed normally updates the cards; this keeps them right when the socket is down.
  await refreshOwner();
}

async function waitForStatus(id: string, progress: (status: string) => void) {
  const deadline = Date.now() + 90_000;
  let last = "";
  while (Date.now() < deadline) {
    const view = await typed(client.GET("/transactions/{id}", { params: { path: { id } } }));
    if (view.status !== last) {
      last = view.status;
      progress(last);
    }
    if (DONE.has(view.status)) return view;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new ApiError("STATUS_TIMEOUT", "The transaction did not reach the chain within 90 s; see the history table", 0);
}
