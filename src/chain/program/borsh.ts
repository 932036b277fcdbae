/**
 * The small subset of Borsh the vault program uses, over Uint8Array/DataView only (runs in workerd and Node).
 * Struct layouts are declared once as field lists and shared by accounts, events and instruction args.
 */
import { PublicKey } from "@solana/web3.js";
import { TRANSFER_REASONS, type TransferReason, transferReasonIndex, U64_MAX } from "./constants.ts";

/** Thrown when bytes do not deserialize (short buffer, bad bool, bad enum index, Vec too long). */
export class BorshError extends Error {
  override name = "BorshError";
}

export type FieldType = "pubkey" | "u64" | "i64" | "u8" | "bool" | "reason" | "vecPubkey";
export type Layout = ReadonlyArray<readonly [name: string, type: FieldType]>;

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Sequential reader; every read throws BorshError past the end. */
export class BorshReader {
  readonly bytes: Uint8Array;
  offset: number;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(n: number): number {
    if (this.offset + n > this.bytes.length) throw new BorshError(`unexpected end of data at offset ${this.offset}`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }
  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.take(8), true);
  }
  i64(): bigint {
    return this.view.getBigInt64(this.take(8), true);
  }
  bool(): boolean {
    const b = this.u8();
    if (b > 1) throw new BorshError(`invalid bool byte ${b}`);
    return b === 1;
  }
  pubkey(): PublicKey {
    const at = this.take(32);
    return new PublicKey(this.bytes.slice(at, at + 32));
  }
  reason(): TransferReason {
    const index = this.u8();
    const name = TRANSFER_REASONS[index];
    if (name === undefined) throw new BorshError(`invalid TransferReason index ${index}`);
    return name;
  }
}

/** Growable writer. */
export class BorshWriter {
  private buf = new Uint8Array(128);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf);
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  bytes(b: ArrayLike<number>): this {
    const at = this.reserve(b.length); // before reading this.buf: reserve may replace it
    this.buf.set(b, at);
    return this;
  }
  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`u8 out of range: ${v}`);
    const at = this.reserve(1);
    this.view.setUint8(at, v);
    return this;
  }
  u32(v: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
    return this;
  }
  u64(v: bigint): this {
    if (typeof v !== "bigint" || v < 0n || v > U64_MAX) throw new RangeError(`u64 out of range: ${String(v)}`);
    const at = this.reserve(8);
    this.view.setBigUint64(at, v, true);
    return this;
  }
  i64(v: bigint): this {
    if (typeof v !== "bigint" || v < I64_MIN || v > I64_MAX) throw new RangeError(`i64 out of range: ${String(v)}`);
    const at = this.reserve(8);
    this.view.setBigInt64(at, v, true);
    return this;
  }
  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }
  pubkey(v: PublicKey): this {
    return this.bytes(v.toBytes());
  }
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads the fields of `layout` into a plain object keyed by field name. */
export function readLayout(
  reader: BorshReader,
  layout: Layout,
  maxVec = Number.POSITIVE_INFINITY,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, type] of layout) {
    if (type === "vecPubkey") {
      const n = reader.u32();
      if (n > maxVec) throw new BorshError(`vector length ${n} exceeds ${maxVec}`);
      out[name] = Array.from({ length: n }, () => reader.pubkey());
    } else {
      out[name] = reader[type]();
    }
  }
  return out;
}

/** Writes the fields of `layout` from `value` (missing or mistyped fields throw). */
export function writeLayout(writer: BorshWriter, layout: Layout, value: Record<string, unknown>): BorshWriter {
  for (const [name, type] of layout) {
    const v = value[name];
    if (v === undefined) throw new TypeError(`missing field ${name}`);
    if (type === "vecPubkey") {
      const items = v as PublicKey[];
      writer.u32(items.length);
      for (const item of items) writer.pubkey(item);
    } else if (type === "reason") {
      writer.u8(transferReasonIndex(v as TransferReason));
    } else {
      (writer[type] as (x: unknown) => BorshWriter)(v);
    }
  }
  return writer;
}
