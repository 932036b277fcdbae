/**
 * Slots, block times, recent blockhashes and commitment levels of the localnet. Block height advances with the
 * slot (no skipped slots), so `blockHeight === slot`.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import bs58 from "./base58.ts";

export type Commitment = "processed" | "confirmed" | "finalized";
/** How many blocks a blockhash stays valid, as on a real cluster. */
export const BLOCKHASH_VALIDITY = 150;

/** Normalises the commitment names web3.js may still send (recent, single, max, root…). */
export function normaliseCommitment(c: unknown, fallback: Commitment = "finalized"): Commitment {
  if (c === "processed" || c === "recent") return "processed";
  if (c === "confirmed" || c === "single" || c === "singleGossip") return "confirmed";
  if (c === "finalized" || c === "max" || c === "root") return "finalized";
  return fallback;
}

export class SlotClock {
  slot = 0;
  /** Highest finalized slot; negative until the chain is finalityDepth slots deep. */
  root: number;
  finalityDepth: number;
  stallFinalization = false;
  readonly genesisHash: string;
  private readonly seed: Uint8Array;
  private readonly blockhashes = new Map<string, number>();
  private readonly latestBySlot = new Map<number, string>();
  private readonly times = new Map<number, number>();
  private nonce = 0;

  constructor(finalityDepth: number) {
    this.finalityDepth = finalityDepth;
    this.root = -finalityDepth;
    this.seed = crypto.getRandomValues(new Uint8Array(32));
    this.genesisHash = this.makeHash(-1);
    this.times.set(0, Math.floor(Date.now() / 1000));
    this.addBlockhash(0);
    // Start at slot 1 so that slot 0 is already "confirmed" and nothing lands in it.
    this.tick();
  }

  private makeHash(slot: number): string {
    const input = new TextEncoder().encode(`${slot}:${this.nonce}`);
    const buf = new Uint8Array(this.seed.length + input.length);
    buf.set(this.seed);
    buf.set(input, this.seed.length);
    return bs58.encode(sha256(buf));
  }

  private addBlockhash(slot: number): void {
    const h = this.makeHash(slot);
    this.blockhashes.set(h, slot);
    this.latestBySlot.set(slot, h);
  }

  /** Moves one slot forward: new blockhash, block time from the wall clock, root follows unless stalled. */
  tick(): void {
    this.slot += 1;
    const prev = this.times.get(this.slot - 1) ?? 0;
    this.times.set(this.slot, Math.max(prev, Math.floor(Date.now() / 1000)));
    this.addBlockhash(this.slot);
    if (!this.stallFinalization) this.root = Math.max(this.root, this.slot - this.finalityDepth);
    const oldest = this.slot - BLOCKHASH_VALIDITY - 1;
    for (const [h, s] of this.blockhashes) if (s < oldest) this.blockhashes.delete(h);
    this.latestBySlot.delete(oldest);
  }

  /** Slot visible at a commitment level. */
  slotAt(c: Commitment): number {
    if (c === "processed") return this.slot;
    if (c === "confirmed") return Math.max(this.slot - 1, 0);
    return Math.max(this.root, 0);
  }

  /** Unix time of a slot. */
  blockTime(slot: number): number {
    return this.times.get(slot) ?? this.times.get(this.slot) ?? Math.floor(Date.now() / 1000);
  }

  /** Latest blockhash as seen at a commitment, with the last block height at which it is valid. */
  latestBlockhash(c: Commitment): { blockhash: string; lastValidBlockHeight: number; slot: number } {
    let s = this.slotAt(c);
    let h = this.latestBySlot.get(s);
    // After expire-blockhashes older slots have no hash: fall forward to the newest one.
    while (!h && s < this.slot) h = this.latestBySlot.get(++s);
    h ??= this.latestBySlot.get(this.slot)!;
    const hashSlot = this.blockhashes.get(h) ?? this.slot;
    return { blockhash: h, lastValidBlockHeight: hashSlot + BLOCKHASH_VALIDITY, slot: this.slotAt(c) };
  }

  /** True when the blockhash is known, not newer than this clock's slot (a lagging view) and not older than 150 blocks. */
  isBlockhashValid(h: string): boolean {
    const s = this.blockhashes.get(h);
    return s !== undefined && s <= this.slot && this.slot - s <= BLOCKHASH_VALIDITY;
  }

  /** Forgets every blockhash and issues a fresh one for the current slot. */
  expireBlockhashes(): void {
    this.blockhashes.clear();
    this.latestBySlot.clear();
    this.nonce += 1;
    this.addBlockhash(this.slot);
  }

  /** Commitment status of a transaction that landed in `slot`. */
  statusOf(slot: number): Commitment {
    if (slot <= this.root) return "finalized";
    if (slot <= this.slot - 1) return "confirmed";
    return "processed";
  }
}
