/** Program-derived addresses of the vault program (spec §3). */
import { PublicKey } from "@solana/web3.js";
import { ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID, VAULT_AUTHORITY_SEED, VAULT_SEED } from "./constants.ts";

/** The user's vault PDA, seeds ["vault", owner], with its canonical bump. */
export function findVaultAddress(programId: PublicKey, owner: PublicKey): [PublicKey, number] {
  return PublicKey.findProgramAddressSync([VAULT_SEED, owner.toBytes()], programId);
}

/** The global VaultAuthority PDA, seeds ["vault_authority"], with its canonical bump. */
export function findVaultAuthorityAddress(programId: PublicKey): [PublicKey, number] {
  return PublicKey.findProgramAddressSync([VAULT_AUTHORITY_SEED], programId);
}

/** The vault's token account: the classic-SPL-Token ATA of (vault PDA, mint); the owner is off curve. */
export function vaultTokenAccountAddress(vault: PublicKey, mint: PublicKey): PublicKey {
  return associatedTokenAddress(vault, mint);
}

/** ATA address of (owner, mint) for classic SPL Token, derived without spl-token so it works for PDA owners too. */
export function associatedTokenAddress(owner: PublicKey, mint: PublicKey): PublicKey {
  const [address] = PublicKey.findProgramAddressSync(
    [owner.toBytes(), TOKEN_PROGRAM_ID.toBytes(), mint.toBytes()],
    ASSOCIATED_TOKEN_PROGRAM_ID,
  );
  return address;
}
