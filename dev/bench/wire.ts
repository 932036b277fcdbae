/**
 * `npm run bench:wire`: ingestion's wire parser (src/chain/chain-tx.ts, toChainTx) against web3.js's decoder on the
 * same transactions (a legacy and a v0 one with a compute budget and an 8-account instruction). Both must agree on
 * the blockhash, the message bytes and every instruction; the figure is microseconds per transaction on this machine.
 */
import {
  ComputeBudgetProgram,
  Keypair,
  Transaction,
  type TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from "@solana/web3.js";
import { type RpcTransaction, toChainTx } from "../../src/chain/chain-tx.ts";

const N = 20_000;
const payer = Keypair.generate();
const instructions: TransactionInstruction[] = [
  ComputeBudgetProgram.setComputeUnitLimit({ units: 50_000 }),
  ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000 }),
  {
    programId: Keypair.generate().publicKey,
    keys: Array.from({ length: 8 }, () => ({
      pubkey: Keypair.generate().publicKey,
      isSigner: false,
      isWritable: true,
    })),
    data: Buffer.alloc(40, 7),
  },
];
const blockhash = () => Keypair.generate().publicKey.toBase58();

const legacy = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash() }).add(...instructions);
legacy.sign(payer);
const v0 = new VersionedTransaction(
  new TransactionMessage({
    payerKey: payer.publicKey,
    recentBlockhash: blockhash(),
    instructions,
  }).compileToV0Message(),
);
v0.sign([payer]);

const asRpc = (wire: Uint8Array) =>
  ({
    slot: 1,
    blockTime: 1,
    transaction: [Buffer.from(wire).toString("base64"), "base64"],
    meta: { err: null, logMessages: [], innerInstructions: [], loadedAddresses: { writable: [], readonly: [] } },
  }) as unknown as RpcTransaction;

/** The same reading through web3.js: decode, keys, instructions, message bytes and their hash. */
async function viaWeb3(raw: RpcTransaction) {
  const wire = Buffer.from(raw.transaction[0], "base64");
  const tx = VersionedTransaction.deserialize(wire);
  const keys = tx.message.staticAccountKeys;
  const compiled = tx.message.compiledInstructions.map((ix) => ({
    programId: keys[ix.programIdIndex]!,
    accounts: ix.accountKeyIndexes.map((i) => keys[i]!),
    data: ix.data,
  }));
  const message = tx.message.serialize();
  await crypto.subtle.digest("SHA-256", message as BufferSource);
  return { recentBlockhash: tx.message.recentBlockhash, compiled };
}

async function perTx(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < N; i++) await work();
  return ((performance.now() - started) / N) * 1000;
}

for (const [name, tx] of [
  ["legacy", legacy.serialize()],
  ["v0", v0.serialize()],
] as const) {
  const raw = asRpc(tx);
  const ours = await toChainTx("bench", raw);
  const theirs = await viaWeb3(raw);
  const agree =
    ours.recentBlockhash === theirs.recentBlockhash &&
    ours.instructions.length === theirs.compiled.length &&
    ours.instructions.every(
      (ix, i) =>
        ix.programId.equals(theirs.compiled[i]!.programId) &&
        Buffer.compare(Buffer.from(ix.data), Buffer.from(theirs.compiled[i]!.data)) === 0,
    );
  if (!agree) throw new Error(`${name}: the two decoders disagree`);
  // The first round warms both up; the second is reported.
  await perTx(() => toChainTx("bench", raw));
  await perTx(() => viaWeb3(raw));
  const hand = await perTx(() => toChainTx("bench", raw));
  const web3 = await perTx(() => viaWeb3(raw));
  console.log(
    `${name}: toChainTx ${hand.toFixed(1)} µs/tx, web3.js ${web3.toFixed(1)} µs/tx (${(web3 / hand).toFixed(2)}×)`,
  );
}
