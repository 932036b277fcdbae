/** Shared helpers of the JSON-RPC methods: errors, parameter parsing, response context. */
import { PublicKey } from "@solana/web3.js";
import bs58 from "./base58.ts";
import type { Commitment } from "./clock.ts";
import { normaliseCommitment } from "./clock.ts";
import type { Chain } from "./engine.ts";

/** A JSON-RPC error response. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

export type Params = unknown[];
export type Method = (chain: Chain, params: Params) => unknown;
export type Config = Record<string, unknown>;

/** The config object at `index` (or {} when absent). */
export function config(params: Params, index: number): Config {
  const c = params[index];
  return c && typeof c === "object" && !Array.isArray(c) ? (c as Config) : {};
}

/** The commitment of a config; real nodes default to finalized. */
export function commitmentOf(c: Config): Commitment {
  return normaliseCommitment(c.commitment, "finalized");
}

/** `{ context: { slot }, value }`. */
export function withContext(chain: Chain, c: Config, value: unknown): unknown {
  return { context: { apiVersion: "2.2.0", slot: chain.clock.slotAt(commitmentOf(c)) }, value };
}

/** A required string parameter. */
export function str(params: Params, index: number, what: string): string {
  const v = params[index];
  if (typeof v !== "string") throw new RpcError(-32602, `Invalid params: missing or invalid ${what}`);
  return v;
}

/** A base58 public key parameter. */
export function pubkey(value: unknown): PublicKey {
  try {
    if (typeof value !== "string" || bs58.decode(value).length !== 32) throw new Error("bad");
    return new PublicKey(value);
  } catch {
    throw new RpcError(-32602, "Invalid param: Invalid");
  }
}

/** Decodes a transaction/message parameter in base58 (default) or base64. */
export function decodeWire(value: unknown, encoding: unknown): Uint8Array {
  if (typeof value !== "string") throw new RpcError(-32602, "Invalid params: expected an encoded transaction");
  try {
    return encoding === "base64" ? Uint8Array.from(Buffer.from(value, "base64")) : bs58.decode(value);
  } catch {
    throw new RpcError(-32602, `invalid transaction: failed to decode ${String(encoding ?? "base58")} string`);
  }
}

/** A non-negative integer parameter. */
export function uint(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RpcError(-32602, `Invalid params: invalid ${what}`);
  }
  return value;
}
