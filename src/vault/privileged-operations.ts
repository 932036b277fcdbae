import type { PublicKey } from "@solana/web3.js";
import { getAccounts } from "../chain/accounts.ts";
import {
  addAuthorizedProgramIx,
  findVaultAuthorityAddress,
  initializeVaultAuthorityIx,
  lockCollateralIx,
  MAX_AUTHORIZED_PROGRAMS,
  removeAuthorizedProgramIx,
  setPausedIx,
  type TransferReason,
  transferCollateralIx,
  unlockCollateralIx,
  type VaultAuthority,
} from "../chain/program/index.ts";
import { formatUsdt } from "../lib/amount.ts";
import { AppError } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { authorizedSet, decodeAuthorityAccount, isAuthorizedCaller } from "./authorization.ts";
import { readVaultChainView, type VaultChainView } from "./chain-view.ts";
import type { PlannedOperation } from "./user-operations.ts";

const AUTHORITY_SIZE = 374;

/** The signer's lamports and the VaultAuthority account, read together. */
async function signerAndAuthority(services: Services, signer: PublicKey) {
  const [authorityAddress] = findVaultAuthorityAddress(services.config.programId);
  const { accounts } = await getAccounts(services.rpc, [signer, authorityAddress]);
  const authority = decodeAuthorityAccount(accounts[1], services.config.programId);
  return { lamports: accounts[0]?.lamports ?? 0n, authority, authorityExists: accounts[1] != null };
}

/**
 * The program accepts any signer for lock/unlock/transfer (vault-program.md §7, §8.1); the backend only builds them
 * for an authority in the on-chain authorized list, unless ALLOW_UNLISTED_AUTHORITIES is set.
 */
function assertAuthorized(services: Services, authority: VaultAuthority | null, signer: PublicKey): VaultAuthority {
  if (!authority) throw new AppError("VAULT_AUTHORITY_MISSING", "The program's VaultAuthority is not initialized");
  if (authority.isPaused) throw new AppError("PROGRAM_PAUSED", "The vault program is paused by its admin");
  // The builder emits a top-level instruction: no program invokes the vault program, so the signer alone counts.
  const listed = isAuthorizedCaller(authorizedSet(authority), { authority: signer.toBase58(), invoker: null });
  if (!listed && !services.config.allowUnlistedAuthorities) {
    throw new AppError(
      "AUTHORITY_NOT_AUTHORIZED",
      `${signer.toBase58()} is not in the program's authorized list; the program would not stop it (bug §8.1), so the backend does`,
    );
  }
  return authority;
}

function usableVault(view: VaultChainView, amount: bigint) {
  if (amount === 0n) throw new AppError("INVALID_AMOUNT", "amount must be greater than zero");
  if (!view.vault) throw new AppError("VAULT_NOT_FOUND", `No vault exists for ${view.owner.toBase58()}`);
  return view.vault;
}

/** lock_collateral / unlock_collateral for `owner`'s vault, signed and paid by `authority`. */
export async function planLockOrUnlock(
  services: Services,
  p: { kind: "lock" | "unlock"; authority: PublicKey; owner: PublicKey; amount: bigint },
): Promise<PlannedOperation> {
  const [view, signer] = await Promise.all([
    readVaultChainView(services.rpc, services.config, p.owner),
    signerAndAuthority(services, p.authority),
  ]);
  const vault = usableVault(view, p.amount);
  assertAuthorized(services, signer.authority, p.authority);
  if (p.kind === "lock" && vault.availableBalance < p.amount) {
    throw new AppError(
      "INSUFFICIENT_AVAILABLE_BALANCE",
      `The vault has ${formatUsdt(vault.availableBalance)} available, less than ${formatUsdt(p.amount)}`,
    );
  }
  if (p.kind === "unlock" && vault.lockedBalance < p.amount) {
    throw new AppError(
      "INSUFFICIENT_LOCKED_BALANCE",
      `The vault has ${formatUsdt(vault.lockedBalance)} locked, less than ${formatUsdt(p.amount)}`,
    );
  }
  const build = p.kind === "lock" ? lockCollateralIx : unlockCollateralIx;
  return {
    type: p.kind,
    owner: p.owner,
    amount: p.amount,
    vaultAddress: view.vaultAddress,
    feePayer: p.authority,
    payerLamports: signer.lamports,
    extraLamports: 0n,
    instructions: [
      build({
        programId: services.config.programId,
        authority: p.authority,
        vault: view.vaultAddress,
        amount: p.amount,
      }),
    ],
    steps: [p.kind === "lock" ? "lock_collateral" : "unlock_collateral"],
  };
}

/** transfer_collateral between two different vaults of the same mint, signed and paid by `authority`. */
export async function planTransfer(
  services: Services,
  p: { authority: PublicKey; from: PublicKey; to: PublicKey; amount: bigint; reason: TransferReason },
): Promise<PlannedOperation> {
  if (p.from.equals(p.to)) {
    throw new AppError(
      "VALIDATION_FAILED",
      "fromOwner and toOwner must differ: a self-transfer inflates the vault's recorded balance (program bug §8.2)",
      { field: "toOwner" },
    );
  }
  const [from, to, signer] = await Promise.all([
    readVaultChainView(services.rpc, services.config, p.from),
    readVaultChainView(services.rpc, services.config, p.to),
    signerAndAuthority(services, p.authority),
  ]);
  const fromVault = usableVault(from, p.amount);
  const toVault = usableVault(to, p.amount);
  assertAuthorized(services, signer.authority, p.authority);
  if (fromVault.totalBalance < p.amount) {
    throw new AppError(
      "INSUFFICIENT_TOTAL_BALANCE",
      `The source vault holds ${formatUsdt(fromVault.totalBalance)} in total, less than ${formatUsdt(p.amount)}`,
    );
  }
  if (!from.vaultToken || !to.vaultToken || !from.vaultToken.mint.equals(to.vaultToken.mint)) {
    throw new AppError("VAULT_MINT_MISMATCH", "The two vaults do not hold the same mint");
  }
  return {
    type: "transfer_out",
    owner: p.from,
    amount: p.amount,
    vaultAddress: from.vaultAddress,
    feePayer: p.authority,
    payerLamports: signer.lamports,
    extraLamports: 0n,
    instructions: [
      transferCollateralIx({
        programId: services.config.programId,
        authority: p.authority,
        fromVault: from.vaultAddress,
        fromTokenAccount: fromVault.tokenAccount,
        toVault: to.vaultAddress,
        toTokenAccount: toVault.tokenAccount,
        amount: p.amount,
        reason: p.reason,
      }),
    ],
    steps: ["transfer_collateral"],
  };
}

/** initialize_vault_authority, add/remove_authorized_program and set_paused, signed and paid by `admin`. */
export async function planAdmin(
  services: Services,
  p:
    | { kind: "initialize_authority"; admin: PublicKey }
    | { kind: "add_authorized_program" | "remove_authorized_program"; admin: PublicKey; program: PublicKey }
    | { kind: "set_paused"; admin: PublicKey; paused: boolean },
): Promise<PlannedOperation> {
  const { programId } = services.config;
  const [authorityAddress] = findVaultAuthorityAddress(programId);
  const signer = await signerAndAuthority(services, p.admin);
  const base = {
    type: p.kind,
    owner: p.admin,
    amount: null,
    vaultAddress: authorityAddress,
    feePayer: p.admin,
    payerLamports: signer.lamports,
  };
  if (p.kind === "initialize_authority") {
    if (signer.authorityExists)
      throw new AppError("VAULT_AUTHORITY_EXISTS", "The VaultAuthority is already initialized");
    const rent = BigInt(await services.rpc.call<number>("getMinimumBalanceForRentExemption", [AUTHORITY_SIZE]));
    return {
      ...base,
      extraLamports: rent,
      instructions: [initializeVaultAuthorityIx({ programId, admin: p.admin })],
      steps: ["initialize_vault_authority"],
    };
  }
  const authority = signer.authority;
  if (!authority) throw new AppError("VAULT_AUTHORITY_MISSING", "The program's VaultAuthority is not initialized");
  if (!authority.admin.equals(p.admin)) {
    throw new AppError("FORBIDDEN", `${p.admin.toBase58()} is not the program's admin (NotAdmin, 12022)`);
  }
  if (p.kind === "set_paused") {
    return {
      ...base,
      extraLamports: 0n,
      instructions: [setPausedIx({ programId, admin: p.admin, paused: p.paused })],
      steps: ["set_paused"],
    };
  }
  if (p.kind === "add_authorized_program") {
    const present = authority.authorizedPrograms.some((k) => k.equals(p.program));
    if (!present && authority.authorizedPrograms.length >= MAX_AUTHORIZED_PROGRAMS) {
      throw new AppError(
        "AUTHORIZED_LIST_FULL",
        "The authorized list already holds 10 entries (MaxAuthorizedProgramsReached, 12023)",
      );
    }
    return {
      ...base,
      extraLamports: 0n,
      instructions: [addAuthorizedProgramIx({ programId, admin: p.admin, program: p.program })],
      steps: ["add_authorized_program"],
    };
  }
  return {
    ...base,
    extraLamports: 0n,
    instructions: [removeAuthorizedProgramIx({ programId, admin: p.admin, program: p.program })],
    steps: ["remove_authorized_program"],
  };
}
