/**
 * The localnet engine in process: front checks, fees, v0 messages, and the program-model path with a tiny
 * test-only model (a real program implementation, not a mock: it writes its own account and CPIs the System program).
 */
import type { TransactionInstruction } from "@solana/web3.js";
import {
  ComputeBudgetProgram,
  Keypair,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
} from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import { Chain } from "../../dev/localnet/engine.ts";
import type { ProgramModel } from "../../dev/localnet/program-model.ts";
import { ProgramFailure } from "../../dev/localnet/program-model.ts";
import { FrontError } from "../../dev/localnet/wire.ts";

const PROGRAM = Keypair.generate().publicKey;
const [PDA] = PublicKey.findProgramAddressSync([new TextEncoder().encode("pot")], PROGRAM);

/** Increments byte 0 of a program-owned account, pays `data[0]` lamports from the PDA to account 2, fails on data[1]. */
const counter: ProgramModel = {
  programId: PROGRAM,
  process(ix, ctx) {
    const [state, pot, to] = ix.accounts;
    if (!state || !pot || !to) throw new ProgramFailure("NotEnoughAccountKeys");
    const data = Uint8Array.from(ctx.getAccount(state.pubkey)!.data);
    data[0] = (data[0] ?? 0) + 1;
    ctx.setAccountData(state.pubkey, data);
    ctx.log(`count ${data[0]}`);
    ctx.invoke(SystemProgram.transfer({ fromPubkey: pot.pubkey, toPubkey: to.pubkey, lamports: ix.data[0] ?? 0 }), [
      PDA,
    ]);
    if (ix.data[1] === 1) throw new ProgramFailure({ Custom: 42 });
  },
};

function setup() {
  const chain = new Chain({ finalityDepth: 2 });
  chain.registerModel(counter);
  const payer = Keypair.generate();
  const state = Keypair.generate().publicKey;
  chain.svm.setAccount(payer.publicKey, {
    lamports: 10_000_000_000n,
    owner: SystemProgram.programId,
    data: new Uint8Array(0),
    executable: false,
  });
  chain.svm.setAccount(state, {
    lamports: chain.minimumBalance(8),
    owner: PROGRAM,
    data: new Uint8Array(8),
    executable: false,
  });
  chain.svm.setAccount(PDA, {
    lamports: 5_000_000_000n,
    owner: SystemProgram.programId,
    data: new Uint8Array(0),
    executable: false,
  });
  const send = (ixs: TransactionInstruction[]) => {
    const tx = new Transaction({ feePayer: payer.publicKey, ...chain.clock.latestBlockhash("processed") }).add(...ixs);
    tx.sign(payer);
    return tx.serialize();
  };
  const counterIx = (lamports: number, fail: boolean, to = payer.publicKey): TransactionInstruction => ({
    programId: PROGRAM,
    keys: [
      { pubkey: state, isSigner: false, isWritable: true },
      { pubkey: PDA, isSigner: false, isWritable: true },
      { pubkey: to, isSigner: false, isWritable: true },
      { pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
    ],
    data: Buffer.from([lamports, fail ? 1 : 0]),
  });
  return { chain, payer, state, send, counterIx };
}

describe("the localnet engine", () => {
  it("runs a model instruction with its CPI nested one level deeper and only the user's transaction on the ledger", () => {
    const { chain, payer, state, send, counterIx } = setup();
    const before = chain.svm.getAccount(payer.publicKey)!.lamports;
    const r = chain.sendTransaction(send([counterIx(100, false)]));
    expect(r.meta.err).toBeNull();
    expect(r.meta.logMessages).toEqual([
      `Program ${PROGRAM.toBase58()} invoke [1]`,
      "Program log: count 1",
      "Program 11111111111111111111111111111111 invoke [2]",
      "Program 11111111111111111111111111111111 success",
      expect.stringMatching(new RegExp(`^Program ${PROGRAM.toBase58()} consumed \\d+ of 200000 compute units$`)),
      `Program ${PROGRAM.toBase58()} success`,
    ]);
    expect(r.meta.innerInstructions[0]?.instructions[0]?.stackHeight).toBe(2);
    expect(chain.svm.getAccount(state)!.data[0]).toBe(1);
    expect(chain.svm.getAccount(payer.publicKey)!.lamports).toBe(before - 5000n + 100n);
    expect(chain.ledger.records).toHaveLength(1);
  });

  it("rolls every account back on a model failure but keeps the fee", () => {
    const { chain, payer, state, send, counterIx } = setup();
    const before = chain.svm.getAccount(payer.publicKey)!.lamports;
    const r = chain.sendTransaction(send([counterIx(100, true)]));
    expect(r.meta.err).toEqual({ InstructionError: [0, { Custom: 42 }] });
    expect(r.meta.logMessages.at(-1)).toBe(`Program ${PROGRAM.toBase58()} failed: custom program error: 0x2a`);
    expect(chain.svm.getAccount(state)!.data[0]).toBe(0);
    expect(chain.svm.getAccount(payer.publicKey)!.lamports).toBe(before - 5000n);
  });

  it("charges 5000 per signature plus ceil(price × limit / 1e6) and reports the price per slot", () => {
    const { chain, payer, send } = setup();
    const ixs = [
      ComputeBudgetProgram.setComputeUnitLimit({ units: 10_001 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 3000 }),
      SystemProgram.transfer({
        fromPubkey: payer.publicKey,
        toPubkey: Keypair.generate().publicKey,
        lamports: 1_000_000,
      }),
    ];
    const before = chain.svm.getAccount(payer.publicKey)!.lamports;
    const r = chain.sendTransaction(send(ixs));
    expect(r.meta.fee).toBe(5000n + 31n);
    expect(chain.svm.getAccount(payer.publicKey)!.lamports).toBe(before - 5031n - 1_000_000n);
    expect(r.computeUnitPrice).toBe(3000n);
  });

  it("accepts v0 messages, refuses duplicates and address lookup tables", () => {
    const { chain, payer } = setup();
    const message = new TransactionMessage({
      payerKey: payer.publicKey,
      recentBlockhash: chain.clock.latestBlockhash("processed").blockhash,
      instructions: [
        SystemProgram.transfer({
          fromPubkey: payer.publicKey,
          toPubkey: Keypair.generate().publicKey,
          lamports: 2_000_000,
        }),
      ],
    }).compileToV0Message();
    const tx = new VersionedTransaction(message);
    tx.sign([payer]);
    expect(chain.sendTransaction(tx.serialize()).version).toBe(0);
    expect(() => chain.sendTransaction(tx.serialize())).toThrow(/already been processed/);
    message.addressTableLookups.push({
      accountKey: Keypair.generate().publicKey,
      writableIndexes: [0],
      readonlyIndexes: [],
    });
    const withAlt = new VersionedTransaction(message);
    withAlt.sign([payer]);
    expect(() => chain.sendTransaction(withAlt.serialize())).toThrow(FrontError);
  });

  it("simulates through the model path and leaves no trace", () => {
    const { chain, state, send, counterIx } = setup();
    const sim = chain.simulate(send([counterIx(7, false)]), { accounts: [state] });
    expect(sim.err).toBeNull();
    expect(sim.accounts?.[0]?.data[0]).toBe(1);
    expect(chain.svm.getAccount(state)!.data[0]).toBe(0);
    expect(chain.ledger.records).toHaveLength(0);
  });

  it("keeps blockhashes valid for 150 blocks only", () => {
    const { chain, payer } = setup();
    const { blockhash } = chain.clock.latestBlockhash("processed");
    chain.advanceSlots(150);
    expect(chain.clock.isBlockhashValid(blockhash)).toBe(true);
    chain.advanceSlots(1);
    expect(chain.clock.isBlockhashValid(blockhash)).toBe(false);
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight: 0 });
    tx.add(
      SystemProgram.transfer({
        fromPubkey: payer.publicKey,
        toPubkey: Keypair.generate().publicKey,
        lamports: 2_000_000,
      }),
    );
    tx.sign(payer);
    expect(() => chain.sendTransaction(tx.serialize())).toThrow(/Blockhash not found/);
  });
});
