/**
 * jsonParsed instructions as the real RPC returns them for the programs it knows (System, SPL Token,
 * Associated Token); other programs come out partially decoded `{ programId, accounts, data }`.
 */
import { PublicKey } from "@solana/web3.js";
import bs58 from "./base58.ts";
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM, uiTokenAmount } from "./ledger.ts";

const SYSTEM = "11111111111111111111111111111111";
const ATA = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
type Info = Record<string, unknown>;
type Parsed = { type: string; info: Info } | null;

function u64(data: Buffer, at: number): bigint {
  return data.length >= at + 8 ? data.readBigUInt64LE(at) : 0n;
}

function parseSystem(data: Buffer, acc: string[]): Parsed {
  const kind = data.length >= 4 ? data.readUInt32LE(0) : -1;
  if (kind === 0) {
    const owner = new PublicKey(data.subarray(20, 52)).toBase58();
    const info = {
      source: acc[0],
      newAccount: acc[1],
      lamports: Number(u64(data, 4)),
      space: Number(u64(data, 12)),
      owner,
    };
    return { type: "createAccount", info };
  }
  if (kind === 1)
    return { type: "assign", info: { account: acc[0], owner: new PublicKey(data.subarray(4, 36)).toBase58() } };
  if (kind === 2)
    return { type: "transfer", info: { source: acc[0], destination: acc[1], lamports: Number(u64(data, 4)) } };
  if (kind === 8) return { type: "allocate", info: { account: acc[0], space: Number(u64(data, 4)) } };
  return null;
}

function optionKeyAt(data: Buffer, at: number): string | null {
  return data[at] === 1 && data.length >= at + 33 ? new PublicKey(data.subarray(at + 1, at + 33)).toBase58() : null;
}

function parseToken(data: Buffer, acc: string[]): Parsed {
  switch (data[0]) {
    case 0:
    case 20: {
      const rent = data[0] === 0 ? { rentSysvar: acc[1] } : {};
      const info = {
        mint: acc[0],
        decimals: data[1],
        mintAuthority: new PublicKey(data.subarray(2, 34)).toBase58(),
        ...rent,
      };
      const freeze = optionKeyAt(data, 34);
      return {
        type: data[0] === 0 ? "initializeMint" : "initializeMint2",
        info: freeze ? { ...info, freezeAuthority: freeze } : info,
      };
    }
    case 1:
      return { type: "initializeAccount", info: { account: acc[0], mint: acc[1], owner: acc[2], rentSysvar: acc[3] } };
    case 16:
    case 18: {
      const owner = new PublicKey(data.subarray(1, 33)).toBase58();
      const rent = data[0] === 16 ? { rentSysvar: acc[2] } : {};
      return {
        type: data[0] === 16 ? "initializeAccount2" : "initializeAccount3",
        info: { account: acc[0], mint: acc[1], owner, ...rent },
      };
    }
    case 3:
      return {
        type: "transfer",
        info: { source: acc[0], destination: acc[1], authority: acc[2], amount: u64(data, 1).toString() },
      };
    case 4:
      return {
        type: "approve",
        info: { source: acc[0], delegate: acc[1], owner: acc[2], amount: u64(data, 1).toString() },
      };
    case 7:
      return {
        type: "mintTo",
        info: { mint: acc[0], account: acc[1], mintAuthority: acc[2], amount: u64(data, 1).toString() },
      };
    case 8:
      return {
        type: "burn",
        info: { account: acc[0], mint: acc[1], authority: acc[2], amount: u64(data, 1).toString() },
      };
    case 9:
      return { type: "closeAccount", info: { account: acc[0], destination: acc[1], owner: acc[2] } };
    case 12: {
      const tokenAmount = uiTokenAmount(u64(data, 1), data[9] ?? 0);
      return {
        type: "transferChecked",
        info: { source: acc[0], mint: acc[1], destination: acc[2], authority: acc[3], tokenAmount },
      };
    }
    case 14: {
      const tokenAmount = uiTokenAmount(u64(data, 1), data[9] ?? 0);
      return { type: "mintToChecked", info: { mint: acc[0], account: acc[1], mintAuthority: acc[2], tokenAmount } };
    }
    case 21:
      return { type: "getAccountDataSize", info: { mint: acc[0] } };
    case 22:
      return { type: "initializeImmutableOwner", info: { account: acc[0] } };
    default:
      return null;
  }
}

function parseAta(data: Buffer, acc: string[]): Parsed {
  const info = {
    source: acc[0],
    account: acc[1],
    wallet: acc[2],
    mint: acc[3],
    systemProgram: acc[4],
    tokenProgram: acc[5],
  };
  if (data.length === 0 || data[0] === 0) return { type: "create", info };
  if (data[0] === 1) return { type: "createIdempotent", info };
  return null;
}

/** One instruction in jsonParsed form. */
export function parseInstruction(
  programId: PublicKey,
  accounts: PublicKey[],
  data: Uint8Array,
  stackHeight: number | null,
): Record<string, unknown> {
  const id = programId.toBase58();
  const acc = accounts.map((a) => a.toBase58());
  const buf = Buffer.from(data);
  let program: string | null = null;
  let parsed: Parsed = null;
  try {
    if (id === SYSTEM) [program, parsed] = ["system", parseSystem(buf, acc)];
    else if (programId.equals(TOKEN_PROGRAM)) [program, parsed] = ["spl-token", parseToken(buf, acc)];
    else if (programId.equals(TOKEN_2022_PROGRAM)) [program, parsed] = ["spl-token-2022", parseToken(buf, acc)];
    else if (id === ATA) [program, parsed] = ["spl-associated-token-account", parseAta(buf, acc)];
  } catch {
    parsed = null;
  }
  if (program && parsed) return { parsed, program, programId: id, stackHeight };
  return { accounts: acc, data: bs58.encode(data), programId: id, stackHeight };
}
