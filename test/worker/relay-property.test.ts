/**
 * Property of POST /vault/submit over random and mutated transactions: a real signed deposit request, reordered or
 * duplicated accounts, flipped signer/writable flags, header bytes changed, other programs added, foreign or broken
 * signatures, trailing bytes, truncated messages, random bytes. Never a 5xx; a 4xx changes nothing — no row of the
 * owner, no row bound to or reporting the transaction, not the vault on chain.
 */
import { ed25519 } from "@noble/curves/ed25519";
import {
  ComputeBudgetProgram,
  Keypair,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from "@solana/web3.js";
import bs58 from "bs58";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { associatedTokenAddress, decodeCollateralVault, findVaultAddress } from "../../src/chain/program/index.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet, rpc } from "./chain.ts";
import { build, buildSignRelay } from "./flow.ts";
import { assertEnvelope, hit } from "./fuzz-support.ts";
import { ingestPass, programId, usdtMint } from "./ingest-support.ts";
import { instructionData, lighthouseAssertion, rowsFor } from "./wallet.ts";

const RUNS = 150;
const MEMO = new PublicKey("MemoSq4gqABAXKb96qnH8TuSCpTdMqAjwM5kRiAsr5S");

interface Ix {
  programId: PublicKey;
  keys: { pubkey: PublicKey; isSigner: boolean; isWritable: boolean }[];
  data: Uint8Array;
}

/** One generated submission: how the built deposit is mutated, signed, encoded and addressed. */
interface Case {
  edits: Edit[];
  header: { at: number; value: number } | null;
  signing: "owner" | "foreign" | "none" | "corrupt";
  wire:
    | { kind: "as-is" }
    | { kind: "trailing"; bytes: number[] }
    | { kind: "truncate"; keep: number }
    | {
        kind: "flip";
        at: number;
      }
    | { kind: "random"; bytes: number[] };
  withId: "request" | "random" | "none";
}

type Edit =
  | { kind: "reorder"; seed: number }
  | { kind: "duplicate"; at: number }
  | { kind: "flip"; ix: number; key: number; flag: "isSigner" | "isWritable" }
  | { kind: "program"; which: "system" | "memo" | "random" | "lighthouse" | "budget" }
  | { kind: "data"; at: number; value: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("reorder" as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(10) }),
  fc.record({
    kind: fc.constant("flip" as const),
    ix: fc.nat(4),
    key: fc.nat(8),
    flag: fc.constantFrom("isSigner" as const, "isWritable" as const),
  }),
  fc.record({
    kind: fc.constant("program" as const),
    which: fc.constantFrom(
      "system" as const,
      "memo" as const,
      "random" as const,
      "lighthouse" as const,
      "budget" as const,
    ),
  }),
  fc.record({ kind: fc.constant("data" as const), at: fc.nat(15), value: fc.nat(255) }),
);

const arbitraryCase: fc.Arbitrary<Case> = fc.record({
  edits: fc.array(edit, { maxLength: 3 }),
  header: fc.oneof(
    { arbitrary: fc.constant(null), weight: 6 },
    { arbitrary: fc.record({ at: fc.nat(2), value: fc.nat(255) }), weight: 1 },
  ),
  signing: fc.constantFrom("owner", "owner", "owner", "foreign", "none", "corrupt"),
  wire: fc.oneof(
    { arbitrary: fc.constant({ kind: "as-is" as const }), weight: 5 },
    {
      arbitrary: fc.record({
        kind: fc.constant("trailing" as const),
        bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 8 }),
      }),
      weight: 1,
    },
    { arbitrary: fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat(400) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(600) }), weight: 1 },
    {
      arbitrary: fc.record({ kind: fc.constant("random" as const), bytes: fc.array(fc.nat(255), { maxLength: 700 }) }),
      weight: 1,
    },
  ),
  withId: fc.constantFrom("request", "request", "random", "none"),
});

function applyEdit(ixs: Ix[], e: Edit, owner: PublicKey): Ix[] {
  const out = ixs.map((ix) => ({ ...ix, keys: ix.keys.map((k) => ({ ...k })) }));
  const vault = out.find((ix) => ix.programId.equals(programId()));
  switch (e.kind) {
    case "reorder":
      if (vault) vault.keys = shuffle(vault.keys, e.seed);
      break;
    case "duplicate":
      if (vault) vault.keys.splice(e.at % (vault.keys.length + 1), 0, { ...vault.keys[e.at % vault.keys.length]! });
      break;
    case "flip": {
      const ix = out[e.ix % out.length]!;
      const key = ix.keys[e.key % Math.max(1, ix.keys.length)];
      if (key) key[e.flag] = !key[e.flag];
      break;
    }
    case "data":
      if (vault) {
        const data = Uint8Array.from(vault.data);
        data[e.at % data.length] = e.value;
        vault.data = data;
      }
      break;
    case "program":
      out.push(otherInstruction(e.which, owner));
      break;
  }
  return out;
}

function otherInstruction(which: string, owner: PublicKey): Ix {
  const fromWeb3 = (ix: TransactionInstruction): Ix => ({ ...ix, data: Uint8Array.from(ix.data) });
  if (which === "system") {
    return fromWeb3(SystemProgram.transfer({ fromPubkey: owner, toPubkey: Keypair.generate().publicKey, lamports: 1 }));
  }
  if (which === "memo") return { programId: MEMO, keys: [], data: new TextEncoder().encode("hello") };
  if (which === "lighthouse") return fromWeb3(lighthouseAssertion(associatedTokenAddress(owner, usdtMint())));
  if (which === "budget") return fromWeb3(ComputeBudgetProgram.setComputeUnitLimit({ units: 300_000 }));
  return { programId: Keypair.generate().publicKey, keys: [], data: Uint8Array.of(1) };
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Compiles, signs and encodes a case; null when web3.js cannot even compile the edited message. */
function encode(base: { payer: PublicKey; blockhash: string; ixs: Ix[] }, c: Case, owner: Keypair): string | null {
  let ixs = base.ixs;
  for (const e of c.edits) ixs = applyEdit(ixs, e, owner.publicKey);
  let message: Uint8Array;
  try {
    message = new TransactionMessage({
      payerKey: base.payer,
      recentBlockhash: base.blockhash,
      instructions: ixs.map((ix) => new TransactionInstruction({ ...ix, data: instructionData(ix.data) })),
    })
      .compileToLegacyMessage()
      .serialize();
  } catch {
    return null;
  }
  if (c.header) message[c.header.at] = c.header.value;
  const signers = Math.min(message[0]!, 4);
  const keys = readKeys(message, signers);
  const foreign = Keypair.generate();
  const sigs = keys.map((key) => {
    if (c.signing === "none") return new Uint8Array(64);
    const signer = c.signing === "foreign" || !key.equals(owner.publicKey) ? foreign : owner;
    const sig = ed25519.sign(message, signer.secretKey.slice(0, 32));
    if (c.signing === "corrupt") sig[5] = (sig[5] ?? 0) ^ 0xff;
    return sig;
  });
  let wire = Uint8Array.from([sigs.length, ...sigs.flatMap((s) => [...s]), ...message]);
  const w = c.wire;
  if (w.kind === "trailing") wire = Uint8Array.from([...wire, ...w.bytes]);
  if (w.kind === "truncate") wire = wire.slice(0, Math.min(w.keep, wire.length - 1));
  if (w.kind === "flip") wire[w.at % wire.length] = (wire[w.at % wire.length] ?? 0) ^ 0x10;
  if (w.kind === "random") wire = Uint8Array.from(w.bytes);
  return btoa(String.fromCharCode(...wire));
}

/** The first `n` static account keys of a legacy message (fewer if the bytes run out). */
function readKeys(message: Uint8Array, n: number): PublicKey[] {
  const count = message[3] ?? 0;
  const out: PublicKey[] = [];
  for (let i = 0; i < Math.min(n, count); i++) {
    const bytes = message.slice(4 + 32 * i, 36 + 32 * i);
    if (bytes.length === 32) out.push(new PublicKey(bytes));
  }
  return out;
}

function decodeBase(unsigned: string) {
  const tx = VersionedTransaction.deserialize(Uint8Array.from(atob(unsigned), (ch) => ch.charCodeAt(0)));
  const m = TransactionMessage.decompile(tx.message);
  return {
    payer: m.payerKey,
    blockhash: m.recentBlockhash,
    ixs: m.instructions.map((ix) => ({ programId: ix.programId, keys: ix.keys, data: Uint8Array.from(ix.data) })),
  };
}

describe("POST /vault/submit with random and mutated transactions", () => {
  let owner: Keypair;
  let vault: PublicKey;

  beforeAll(async () => {
    owner = await fundedWallet({ usdt: 50_000_000n });
    const userPubkey = owner.publicKey.toBase58();
    await buildSignRelay("/vault/initialize", { userPubkey }, [owner]);
    [vault] = findVaultAddress(programId(), owner.publicKey);
    await settled();
  }, 120_000);

  /** Waits until every row of the owner is ingested and final, so only the case under test can change them. */
  async function settled() {
    await eventually(async () => {
      await ingestPass({ finalize: true });
      const rows = await rowsFor(owner.publicKey.toBase58());
      return rows.every(
        (r) => r.status === "finalized" || r.status === "failed" || (r.status === "pending" && r.signature === null),
      )
        ? true
        : undefined;
    }, 90_000);
  }

  async function snapshot(signature: string | null) {
    const rows = await rowsFor(owner.publicKey.toBase58(), ...(signature ? [signature] : []));
    const info = await rpc<{ value: { data: [string, string] } | null }>("getAccountInfo", [
      vault.toBase58(),
      { encoding: "base64", commitment: "processed" },
    ]);
    const state =
      info.value && decodeCollateralVault(Uint8Array.from(atob(info.value.data[0]), (ch) => ch.charCodeAt(0)));
    return { rows: rows.sort((a, b) => a.id.localeCompare(b.id)), state };
  }

  it("never answers 5xx, and a 4xx changes nothing in the database or on chain", async () => {
    let request = await build("/vault/deposit", { userPubkey: owner.publicKey.toBase58(), amount: 1_000 });
    let base = decodeBase(request.unsignedTransaction);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(arbitraryCase, async (c) => {
        if (
          (await rpc<number>("getBlockHeight", [{ commitment: "confirmed" }])) >
          Number(request.lastValidBlockHeight) - 40
        ) {
          // Keep testing the live path: a request whose blockhash is about to expire is replaced by a fresh one.
          request = await build("/vault/deposit", { userPubkey: owner.publicKey.toBase58(), amount: 1_000 });
          base = decodeBase(request.unsignedTransaction);
        }
        const signedTransaction = encode(base, c, owner);
        if (signedTransaction === null) return;
        const signature = firstSignature(signedTransaction);
        const before = await snapshot(signature);
        const transactionId =
          c.withId === "request" ? request.transactionId : c.withId === "random" ? crypto.randomUUID() : undefined;
        const req = {
          method: "POST",
          path: "/vault/submit",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ signedTransaction, ...(transactionId ? { transactionId } : {}) }),
        };
        const res = await hit(req);
        assertEnvelope(req, res);
        if (res.status >= 400) {
          expect(await snapshot(signature), res.text).toEqual(before);
          return;
        }
        // Accepted (a wallet-style change of a valid deposit): let it land and settle, then start from a new request.
        accepted++;
        await settled();
        request = await build("/vault/deposit", { userPubkey: owner.publicKey.toBase58(), amount: 1_000 });
        base = decodeBase(request.unsignedTransaction);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    // The generator reaches the relay's acceptance path (wallet-style changes), not only its refusals.
    expect(accepted).toBeGreaterThan(0);
  }, 600_000);
});

function firstSignature(b64: string): string | null {
  try {
    const tx = VersionedTransaction.deserialize(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
    return tx.signatures[0] ? bs58.encode(tx.signatures[0]) : null;
  } catch {
    return null;
  }
}
