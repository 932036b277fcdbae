/** @coral-xyz/anchor's BorshCoder built from our idl.json: the test oracle for the codec, plus value converters. */
import { BN, BorshCoder, type Idl } from "@coral-xyz/anchor";
import idlJson from "../../src/chain/program/idl.json" with { type: "json" };

export const idl = idlJson as unknown as Idl;
export const coder = new BorshCoder(idl);
export const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Our value shapes (camelCase, bigint, reason names) → Anchor's (snake_case, BN, { Variant: {} }). */
export function toAnchor(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[snake(k)] = typeof x === "bigint" ? new BN(x.toString()) : k === "reason" ? { [pascal(String(x))]: {} } : x;
  }
  return out;
}

/** Anchor's decoded values → our shapes, for deep comparison. */
export function fromAnchor(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const name = camel(k);
    if (BN.isBN(x)) out[name] = BigInt((x as BN).toString());
    else if (name === "reason") out[name] = camel(Object.keys(x as object)[0]!.replace(/^./, (c) => c.toLowerCase()));
    else out[name] = x;
  }
  return out;
}
