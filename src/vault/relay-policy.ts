/**
 * What the relay sends on a client's behalf — the builders' policy, applied to transactions the backend did not
 * build. The program itself lets any signer lock, unlock or transfer anyone's collateral (vault-program.md §8.1),
 * inflate a vault by self-transfer (§8.2) and block a vault's creation by creating its token account first (§8.4);
 * a backend that rebroadcast such transactions would help the theft. Rules, in the order they are checked:
 *
 * 1. Programs: the vault program, compute budget, Lighthouse (wallet assertions) and the associated-token program's
 *    create instructions; anything else is PROGRAM_NOT_ALLOWED.
 * 2. No admin instruction (initialize_vault_authority, add/remove_authorized_program, set_paused): operators build
 *    those through /admin/* and send them themselves.
 * 3. No token account created for an address off the ed25519 curve (a PDA: a vault's token account, §8.4).
 * 4. initialize_vault, deposit, withdraw: `user` signs, and `vault` is the user's own vault PDA.
 * 5. transfer_collateral: never from a vault to itself (§8.2).
 * 6. From chain state read together with the simulation (one JSON-RPC batch): lock, unlock and transfer only when
 *    the signing authority is in the on-chain authorized list (authorization.ts; ALLOW_UNLISTED_AUTHORITIES lifts
 *    it), and a deposit's or withdrawal's vault is owned by its user.
 * Refusals are coded 4xx naming the instruction and the reason; nothing is written for a refused relay.
 */
import { PublicKey } from "@solana/web3.js";
import { decodeOwned, getAccounts, type RpcAccount, toBase64, toRaw } from "../chain/accounts.ts";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  COMPUTE_BUDGET_PROGRAM_ID,
  type CollateralVault,
  type DecodedVaultInstruction,
  decodeCollateralVault,
  decodeVaultInstruction,
  findVaultAddress,
  findVaultAuthorityAddress,
  LIGHTHOUSE_PROGRAM_ID,
  type VaultAuthority,
} from "../chain/program/index.ts";
import type { RpcError } from "../chain/rpc.ts";
import type { TransactionType } from "../db/schema.ts";
import { AppError } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { authorizedSet, decodeAuthorityAccount, isAuthorizedCaller } from "./authorization.ts";
import type { DecodedSignedTransaction, MessageInstruction, SimulationOutcome } from "./relay.ts";
import { REQUEST_TYPE } from "./relay.ts";

/** A vault instruction of the transaction, decoded. */
export interface RelayedVaultInstruction {
  index: number;
  ix: DecodedVaultInstruction;
}

/** A transaction that passed the structural rules (1-5): its vault instructions and what the request is. */
export interface RelayCandidate extends DecodedSignedTransaction {
  vaultInstructions: RelayedVaultInstruction[];
  type: TransactionType;
  amount: bigint | null;
  /** Vault PDAs named by vault instructions (read with the simulation). */
  vaults: PublicKey[];
}

/** The chain state the policy and the request row need, read at simulation. */
export interface ChainState {
  simulation: SimulationOutcome;
  authority: VaultAuthority | null;
  vaults: Map<string, CollateralVault | null>;
}

const ADMIN_INSTRUCTIONS = new Set([
  "initializeVaultAuthority",
  "addAuthorizedProgram",
  "removeAuthorizedProgram",
  "setPaused",
]);
/** Associated-token-account program: Create (empty data or 0) and CreateIdempotent (1). */
const ATA_CREATE = new Set([0, 1]);

function refuse(ix: number, reason: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new AppError("INSTRUCTION_NOT_ALLOWED", `Instruction ${ix}: ${message}`, {
    instructionIndex: ix,
    reason,
    ...extra,
  });
}

/** Rules 1-5: judged from the transaction alone. */
export function checkStructure(tx: DecodedSignedTransaction, programId: PublicKey): RelayCandidate {
  const vaultInstructions: RelayedVaultInstruction[] = [];
  for (const ix of tx.instructions) {
    if (ix.programId.equals(COMPUTE_BUDGET_PROGRAM_ID) || ix.programId.equals(LIGHTHOUSE_PROGRAM_ID)) continue;
    if (ix.programId.equals(ASSOCIATED_TOKEN_PROGRAM_ID)) {
      checkAtaInstruction(ix);
      continue;
    }
    if (!ix.programId.equals(programId)) {
      throw new AppError(
        "PROGRAM_NOT_ALLOWED",
        `Only vault-program transactions are relayed (with compute-budget, Lighthouse and token-account creation instructions); instruction ${ix.index} calls ${ix.programId.toBase58()}`,
        { program: ix.programId.toBase58(), instructionIndex: ix.index },
      );
    }
    const decoded = decodeVaultInstruction(
      ix.data,
      ix.accounts.map((a) => a.pubkey),
    );
    if (!decoded) throw new AppError("INVALID_TRANSACTION", `Instruction ${ix.index} is not a valid vault instruction`);
    checkVaultInstruction(ix, decoded, programId);
    vaultInstructions.push({ index: ix.index, ix: decoded });
  }
  const first = vaultInstructions[0];
  if (!first) throw new AppError("PROGRAM_NOT_ALLOWED", "The transaction has no vault program instruction");
  const vaults = new Map<string, PublicKey>();
  for (const { ix } of vaultInstructions) {
    const a = ix.accounts as Record<string, PublicKey | undefined>;
    for (const v of [a.vault, a.fromVault, a.toVault]) if (v) vaults.set(v.toBase58(), v);
  }
  const args = first.ix.args as { amount?: bigint };
  return {
    ...tx,
    vaultInstructions,
    type: REQUEST_TYPE[first.ix.name]!,
    amount: args.amount ?? null,
    vaults: [...vaults.values()],
  };
}

function checkAtaInstruction(ix: MessageInstruction): void {
  const kind = ix.data.length === 0 ? 0 : ix.data[0]!;
  if (!ATA_CREATE.has(kind) || ix.data.length > 1) {
    refuse(ix.index, "token_program_instruction", "only associated-token-account creation is relayed");
  }
  const wallet = ix.accounts[2]?.pubkey;
  if (!wallet) throw new AppError("INVALID_TRANSACTION", `Instruction ${ix.index}: missing accounts`);
  if (!PublicKey.isOnCurve(wallet.toBytes())) {
    refuse(
      ix.index,
      "vault_token_account_creation",
      `creating the token account of program address ${wallet.toBase58()} is refused: pre-creating a vault's token account blocks initialize_vault for good (program bug §8.4)`,
      { wallet: wallet.toBase58() },
    );
  }
}

function checkVaultInstruction(ix: MessageInstruction, decoded: DecodedVaultInstruction, programId: PublicKey): void {
  if (ADMIN_INSTRUCTIONS.has(decoded.name)) {
    refuse(ix.index, "admin_instruction", `${decoded.name} is an admin instruction; the relay does not send those`);
  }
  if (decoded.name === "initializeVault" || decoded.name === "deposit" || decoded.name === "withdraw") {
    const { user, vault } = decoded.accounts;
    // The account flags of this instruction's `user` position (index 0), as the message sets them.
    if (!ix.accounts[0]?.isSigner) {
      refuse(ix.index, "user_not_signer", `${decoded.name} must be signed by its user ${user.toBase58()}`);
    }
    const [own] = findVaultAddress(programId, user);
    if (!vault.equals(own)) {
      refuse(
        ix.index,
        "vault_not_users",
        `${decoded.name} names vault ${vault.toBase58()}, which is not ${user.toBase58()}'s`,
      );
    }
  }
  if (decoded.name === "transferCollateral" && decoded.accounts.fromVault.equals(decoded.accounts.toVault)) {
    refuse(
      ix.index,
      "self_transfer",
      "a transfer from a vault to itself inflates its recorded balance with no tokens behind it (program bug §8.2)",
    );
  }
}

/**
 * Simulates (signatures verified, at `confirmed`) and reads the VaultAuthority and the named vaults in the same
 * JSON-RPC batch: one HTTP round trip, and the policy judges the state the simulation ran against.
 */
export async function simulateWithState(services: Services, tx: RelayCandidate): Promise<ChainState> {
  const { programId } = services.config;
  const [authorityAddress] = findVaultAuthorityAddress(programId);
  const keys = [authorityAddress, ...tx.vaults];
  const [simReply, accountsReply] = await services.rpc.batch([
    {
      method: "simulateTransaction",
      params: [toBase64(tx.wire), { encoding: "base64", sigVerify: true, commitment: "confirmed" }],
    },
    {
      method: "getMultipleAccounts",
      params: [keys.map((k) => k.toBase58()), { encoding: "base64", commitment: "confirmed" }],
    },
  ]);
  if (!simReply!.ok) throw simulationRefused(simReply!.error);
  // The account read failing alone (rare) costs one more round trip rather than the relay.
  const accounts = accountsReply!.ok
    ? (accountsReply!.value as { value: (RpcAccount | null)[] }).value.map(toRaw)
    : (await getAccounts(services.rpc, keys)).accounts;
  const vaults = new Map(
    tx.vaults.map((v, i) => [v.toBase58(), decodeOwned(accounts[i + 1], programId, decodeCollateralVault)]),
  );
  const value = (simReply!.value as { value: { err: unknown; logs: string[] | null } }).value;
  return {
    simulation: { err: value.err, logs: value.logs ?? [] },
    authority: decodeAuthorityAccount(accounts[0], programId),
    vaults,
  };
}

/** A node's refusal to simulate: the transaction's fault (400) unless the node says it is unwell. */
function simulationRefused(err: RpcError): AppError {
  if (err.code === -32003) return new AppError("INVALID_SIGNATURE", "The node rejected the transaction's signatures");
  if (/blockhash not found/i.test(err.message)) {
    return new AppError("BLOCKHASH_EXPIRED", "The transaction's blockhash has expired; build and sign a new one");
  }
  if (err.code === -32005 || err.code === -32004) {
    return new AppError("UPSTREAM_UNAVAILABLE", "The Solana RPC could not simulate the transaction; try again shortly");
  }
  return new AppError("INVALID_TRANSACTION", `The node refused to simulate the transaction: ${err.message}`, {
    rpcCode: err.code,
  });
}

/** Rule 6: the authorized list and vault ownership, from the state read at simulation. */
export function checkChainState(tx: RelayCandidate, state: ChainState, allowUnlisted: boolean): void {
  const authorized = authorizedSet(state.authority);
  for (const { index, ix } of tx.vaultInstructions) {
    if (ix.name === "lockCollateral" || ix.name === "unlockCollateral" || ix.name === "transferCollateral") {
      // A relayed instruction is top level: no program invoked the vault program.
      const authority = ix.accounts.authority.toBase58();
      if (!allowUnlisted && !isAuthorizedCaller(authorized, { authority, invoker: null })) {
        throw new AppError(
          "AUTHORITY_NOT_AUTHORIZED",
          `Instruction ${index}: ${ix.name} is signed by ${authority}, which is not in the program's authorized list; the program would not stop it (bug §8.1), so the relay does`,
          { instructionIndex: index, authority },
        );
      }
    }
    if (ix.name === "deposit" || ix.name === "withdraw") {
      const vault = state.vaults.get(ix.accounts.vault.toBase58());
      if (vault && !vault.owner.equals(ix.accounts.user)) {
        refuse(index, "vault_not_users", `the vault belongs to ${vault.owner.toBase58()}, not to the signing user`);
      }
    }
  }
}

/** The vault owner a relayed request acts for: the user, or the owner of the (source) vault read at simulation. */
export function requestOwner(tx: RelayCandidate, state: ChainState): string {
  const { ix } = tx.vaultInstructions[0]!;
  const a = ix.accounts as Record<string, PublicKey | undefined>;
  if (a.user) return a.user.toBase58();
  const vault = a.vault ?? a.fromVault!;
  const decoded = state.vaults.get(vault.toBase58());
  if (!decoded) throw new AppError("VAULT_NOT_FOUND", `${vault.toBase58()} is not a vault of this program`);
  return decoded.owner.toBase58();
}
