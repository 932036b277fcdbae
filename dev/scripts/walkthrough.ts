/**
 * A wallet's-eye check of the local chain with no backend involved: only @solana/web3.js (and the program codec)
 * against the RPC of `npm run dev`. Initializes a vault, deposits 100 USDT, locks 30 with an arbitrary signer
 * (the program accepts any signer, vault-program.md §8.1), withdraws 50, then decodes the vault account and the
 * events of each transaction from getTransaction.
 *
 *   node dev/scripts/walkthrough.ts            (reads rpcUrl/programId/usdtMint from .dev/stack.json)
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  sendAndConfirmTransaction,
  Transaction,
  type TransactionInstruction,
} from "@solana/web3.js";
import {
  associatedTokenAddress,
  decodeCollateralVault,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
  lockCollateralIx,
  parseProgramEvents,
  withdrawIx,
} from "../../src/chain/program/index.ts";
import { DEV_DIR } from "../stack.ts";

const stack = JSON.parse(await readFile(join(DEV_DIR, "stack.json"), "utf8")) as Record<string, string>;
const connection = new Connection(stack.rpcUrl!, "confirmed");
const programId = new PublicKey(stack.programId!);
const mint = new PublicKey(stack.usdtMint!);

const user = Keypair.generate();
const stranger = Keypair.generate();
// The localnet faucet (dev control): SOL and test USDT for the new wallet.
await fetch(`${stack.rpcUrl}/localnet/fund`, {
  method: "POST",
  body: JSON.stringify({
    address: user.publicKey.toBase58(),
    lamports: String(2 * LAMPORTS_PER_SOL),
    usdt: "100000000",
  }),
});
await connection.confirmTransaction(await connection.requestAirdrop(stranger.publicKey, LAMPORTS_PER_SOL), "confirmed");

const [vault] = findVaultAddress(programId, user.publicKey);
const userAta = associatedTokenAddress(user.publicKey, mint);

async function send(label: string, ix: TransactionInstruction, payer: Keypair): Promise<void> {
  const signature = await sendAndConfirmTransaction(connection, new Transaction().add(ix), [payer], {
    commitment: "confirmed",
  });
  const tx = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  const events = parseProgramEvents(tx?.meta?.logMessages ?? [], programId).map(({ event }) => event);
  console.log(`${label}: ${signature}`);
  for (const e of events)
    console.log(
      `  event ${e.name}`,
      JSON.stringify(e.data, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
    );
}

await send("initialize_vault", initializeVaultIx({ programId, user: user.publicKey, mint }), user);
const info = await connection.getAccountInfo(vault, "confirmed");
const vaultAta = decodeCollateralVault(info!.data).tokenAccount;
await send(
  "deposit 100 USDT",
  depositIx({
    programId,
    user: user.publicKey,
    userTokenAccount: userAta,
    vaultTokenAccount: vaultAta,
    amount: 100_000_000n,
  }),
  user,
);
await send(
  "lock 30 USDT (arbitrary signer)",
  lockCollateralIx({ programId, authority: stranger.publicKey, vault, amount: 30_000_000n }),
  stranger,
);
await send(
  "withdraw 50 USDT",
  withdrawIx({
    programId,
    user: user.publicKey,
    userTokenAccount: userAta,
    vaultTokenAccount: vaultAta,
    amount: 50_000_000n,
  }),
  user,
);
const final = decodeCollateralVault((await connection.getAccountInfo(vault, "confirmed"))!.data);
console.log("vault", {
  owner: final.owner.toBase58(),
  total: final.totalBalance.toString(),
  locked: final.lockedBalance.toString(),
  available: final.availableBalance.toString(),
  deposited: final.totalDeposited.toString(),
  withdrawn: final.totalWithdrawn.toString(),
});
if (
  final.totalBalance !== 50_000_000n ||
  final.lockedBalance !== 30_000_000n ||
  final.availableBalance !== 20_000_000n
) {
  console.error("unexpected vault state");
  process.exit(1);
}
