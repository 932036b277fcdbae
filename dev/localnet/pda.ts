/**
 * Memoized program-derived addresses. Both are pure functions of their inputs, and their on-curve check (pure-JS
 * point decompression) cost more than the rest of a deposit; bounded so a long-running localnet does not grow
 * without end.
 */
import { PublicKey } from "@solana/web3.js";

const MAX_ENTRIES = 200_000;
const created = new Map<string, PublicKey | null>();
const found = new Map<string, [PublicKey, number]>();

function memoKey(seeds: Uint8Array[], programId: PublicKey): string {
  return `${programId.toBase58()}:${seeds.map((s) => Buffer.from(s).toString("hex")).join(":")}`;
}

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, value);
  return value;
}

/** create_program_address: the address, or null when the seeds give a point on the curve. */
export function createProgramAddress(seeds: Uint8Array[], programId: PublicKey): PublicKey | null {
  const key = memoKey(seeds, programId);
  const hit = created.get(key);
  if (hit !== undefined) return hit;
  let pda: PublicKey | null;
  try {
    pda = PublicKey.createProgramAddressSync(seeds, programId);
  } catch {
    pda = null;
  }
  return remember(created, key, pda);
}

/** find_program_address: the canonical address and bump. */
export function findProgramAddress(seeds: Uint8Array[], programId: PublicKey): [PublicKey, number] {
  const key = memoKey(seeds, programId);
  return found.get(key) ?? remember(found, key, PublicKey.findProgramAddressSync(seeds, programId));
}
