import { createAssociatedTokenAccountIdempotentInstruction } from "@solana/spl-token";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
  TOKEN_PROGRAM_ID,
  vaultTokenAccountAddress,
  withdrawIx,
} from "../chain/program/index.ts";
import type { TransactionType } from "../db/schema.ts";
import { formatUsdt } from "../lib/amount.ts";
import { AppError } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { readVaultChainView, type VaultChainView } from "./chain-view.ts";

/** What a build turns into a transaction: the instructions, who pays, and the rent they create. */
export interface PlannedOperation {
  type: TransactionType;
  owner: PublicKey;
  amount: bigint | null;
  vaultAddress: PublicKey;
  feePayer: PublicKey;
  payerLamports: bigint;
  extraLamports: bigint;
  instructions: TransactionInstruction[];
  /** Names of the instructions after the compute-budget pair, for clients. */
  steps: string[];
  /** The exchange's position label (privileged lock/unlock only), stored with the request. */
  positionId?: string | null;
}

const VAULT_ACCOUNT_SIZE = 121;
const TOKEN_ACCOUNT_SIZE = 165;

async function rent(services: Services, size: number): Promise<bigint> {
  return BigInt(await services.rpc.call<number>("getMinimumBalanceForRentExemption", [size]));
}

/**
 * The instructions a user build produces in the common case, known before the chain is read (every account is a
 * PDA or an associated token account of the owner and the configured mint): what the build prices while its plan
 * reads the chain. A withdrawal to a missing token account adds its creation, and a vault of another mint uses
 * another token account: those plans differ, and their assembly prices afresh.
 */
export function expectedInstructions(
  config: Services["config"],
  kind: "initialize" | "deposit" | "withdrawal",
  owner: PublicKey,
  amount: bigint,
): TransactionInstruction[] {
  if (kind === "initialize")
    return [initializeVaultIx({ programId: config.programId, user: owner, mint: config.usdtMint })];
  const [vault] = findVaultAddress(config.programId, owner);
  const accounts = {
    programId: config.programId,
    user: owner,
    userTokenAccount: associatedTokenAddress(owner, config.usdtMint),
    vaultTokenAccount: vaultTokenAccountAddress(vault, config.usdtMint),
    amount,
  };
  return [kind === "deposit" ? depositIx(accounts) : withdrawIx(accounts)];
}

/** initialize_vault, refused when it would fail on chain (vault exists, its ATA was pre-created). */
export async function planInitialize(services: Services, owner: PublicKey): Promise<PlannedOperation> {
  const { config } = services;
  const [view, vaultRent, ataRent] = await Promise.all([
    readVaultChainView(services.rpc, config, owner),
    rent(services, VAULT_ACCOUNT_SIZE),
    rent(services, TOKEN_ACCOUNT_SIZE),
  ]);
  if (view.vault) throw new AppError("VAULT_ALREADY_EXISTS", `A vault already exists for ${owner.toBase58()}`);
  if (view.canonicalVaultTokenAccountExists) {
    throw new AppError(
      "VAULT_TOKEN_ACCOUNT_EXISTS",
      `The vault's token account ${view.canonicalVaultTokenAccount.toBase58()} already exists (someone created it in advance). ` +
        "The program creates it with the non-idempotent ATA instruction, so initialize_vault can never succeed for this owner and mint (program bug, vault-program.md §8.4).",
      { vaultTokenAccount: view.canonicalVaultTokenAccount.toBase58() },
    );
  }
  if (!view.mint) {
    throw new AppError("SERVICE_UNAVAILABLE", "The configured USDT mint does not exist on this cluster");
  }
  // Lamports already sitting on the vault address count towards its rent (Anchor's init tops up).
  const vaultTopUp =
    vaultRent > (view.vaultAccount?.lamports ?? 0n) ? vaultRent - (view.vaultAccount?.lamports ?? 0n) : 0n;
  return {
    type: "initialize",
    owner,
    amount: null,
    vaultAddress: view.vaultAddress,
    feePayer: owner,
    payerLamports: view.userLamports,
    extraLamports: vaultTopUp + ataRent,
    instructions: [initializeVaultIx({ programId: config.programId, user: owner, mint: config.usdtMint })],
    steps: ["initialize_vault"],
  };
}

/** Refusals shared by deposit and withdraw: amount, vault, authority, pause, mint. */
function assertVaultUsable(view: VaultChainView, services: Services, amount: bigint): void {
  if (amount === 0n) throw new AppError("INVALID_AMOUNT", "amount must be greater than zero");
  if (!view.vault)
    throw new AppError("VAULT_NOT_FOUND", `No vault exists for ${view.owner.toBase58()}; initialize it first`);
  if (!view.authority) {
    throw new AppError("VAULT_AUTHORITY_MISSING", "The program's VaultAuthority is not initialized on this cluster");
  }
  if (view.authority.isPaused) throw new AppError("PROGRAM_PAUSED", "The vault program is paused by its admin");
  if (!view.vaultToken?.mint.equals(services.config.usdtMint)) {
    throw new AppError(
      "VAULT_MINT_MISMATCH",
      `This vault holds ${view.vaultToken?.mint.toBase58() ?? "an unknown mint"}, not the configured USDT mint`,
    );
  }
}

/** deposit: the user's USDT ATA → vault, refused when the user lacks tokens or the vault cannot take them. */
export async function planDeposit(services: Services, owner: PublicKey, amount: bigint): Promise<PlannedOperation> {
  const { config } = services;
  const view = await readVaultChainView(services.rpc, config, owner);
  assertVaultUsable(view, services, amount);
  if (!view.userToken) {
    throw new AppError("TOKEN_ACCOUNT_NOT_FOUND", `${owner.toBase58()} has no USDT token account to deposit from`, {
      tokenAccount: view.userTokenAccount.toBase58(),
    });
  }
  if (view.userToken.state === 2) throw new AppError("TOKEN_ACCOUNT_FROZEN", "The user's USDT token account is frozen");
  if (view.userToken.amount < amount) {
    throw new AppError(
      "INSUFFICIENT_TOKEN_BALANCE",
      `The wallet holds ${formatUsdt(view.userToken.amount)}, less than the ${formatUsdt(amount)} requested`,
      { available: view.userToken.amount.toString(), requested: amount.toString() },
    );
  }
  return {
    type: "deposit",
    owner,
    amount,
    vaultAddress: view.vaultAddress,
    feePayer: owner,
    payerLamports: view.userLamports,
    extraLamports: 0n,
    instructions: [
      depositIx({
        programId: config.programId,
        user: owner,
        userTokenAccount: view.userTokenAccount,
        vaultTokenAccount: view.vault!.tokenAccount,
        amount,
      }),
    ],
    steps: ["deposit"],
  };
}

/** withdraw: vault → the user's USDT ATA (created idempotently when missing), refused above the available balance. */
export async function planWithdraw(services: Services, owner: PublicKey, amount: bigint): Promise<PlannedOperation> {
  const { config } = services;
  const view = await readVaultChainView(services.rpc, config, owner);
  assertVaultUsable(view, services, amount);
  const vault = view.vault!;
  if (vault.availableBalance < amount) {
    throw new AppError(
      "INSUFFICIENT_AVAILABLE_BALANCE",
      `The vault has ${formatUsdt(vault.availableBalance)} available (${formatUsdt(vault.lockedBalance)} locked), less than the ${formatUsdt(amount)} requested`,
      { available: vault.availableBalance.toString(), requested: amount.toString() },
    );
  }
  if (view.vaultToken!.amount < amount) {
    // Only possible after the self-transfer inflation bug (§8.2): the recorded balance exceeds the real tokens.
    throw new AppError(
      "INSUFFICIENT_TOKEN_BALANCE",
      `The vault's token account holds ${formatUsdt(view.vaultToken!.amount)}, less than its recorded balance allows`,
    );
  }
  const instructions: TransactionInstruction[] = [];
  const steps: string[] = [];
  let extraLamports = 0n;
  if (!view.userToken) {
    instructions.push(
      createAssociatedTokenAccountIdempotentInstruction(
        owner,
        view.userTokenAccount,
        owner,
        config.usdtMint,
        TOKEN_PROGRAM_ID,
      ),
    );
    steps.push("create_associated_token_account_idempotent");
    extraLamports = await rent(services, TOKEN_ACCOUNT_SIZE);
  } else if (view.userToken.state === 2) {
    throw new AppError("TOKEN_ACCOUNT_FROZEN", "The user's USDT token account is frozen");
  }
  instructions.push(
    withdrawIx({
      programId: config.programId,
      user: owner,
      userTokenAccount: view.userTokenAccount,
      vaultTokenAccount: vault.tokenAccount,
      amount,
    }),
  );
  steps.push("withdraw");
  return {
    type: "withdrawal",
    owner,
    amount,
    vaultAddress: view.vaultAddress,
    feePayer: owner,
    payerLamports: view.userLamports,
    extraLamports,
    instructions,
    steps,
  };
}
