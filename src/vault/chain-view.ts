import type { PublicKey } from "@solana/web3.js";
import {
  decodeMint,
  decodeOwned,
  decodeTokenAccount,
  getAccounts,
  type MintAccount,
  type RawAccount,
  type TokenAccount,
} from "../chain/accounts.ts";
import {
  associatedTokenAddress,
  type CollateralVault,
  decodeCollateralVault,
  decodeVaultAuthority,
  findVaultAddress,
  findVaultAuthorityAddress,
  type VaultAuthority,
  vaultTokenAccountAddress,
} from "../chain/program/index.ts";
import type { SolanaRpc } from "../chain/rpc.ts";
import type { Config } from "../config.ts";

/** Everything a build needs to know about one owner, read from the chain in one round trip at one slot. */
export interface VaultChainView {
  slot: number;
  owner: PublicKey;
  vaultAddress: PublicKey;
  /** The canonical vault ATA for the configured mint (what initialize_vault would create). */
  canonicalVaultTokenAccount: PublicKey;
  userTokenAccount: PublicKey;
  userLamports: bigint;
  vault: CollateralVault | null;
  /** Raw account at the vault address (it can exist without being a vault, e.g. lamports sent to the PDA). */
  vaultAccount: RawAccount | null;
  /** The token account the vault uses (vault.tokenAccount), or the canonical ATA before the vault exists. */
  vaultToken: TokenAccount | null;
  /** Slot of the `vaultToken` read: `slot`, unless the vault names a non-canonical token account (a second read). */
  vaultTokenSlot: number;
  canonicalVaultTokenAccountExists: boolean;
  userToken: TokenAccount | null;
  authority: VaultAuthority | null;
  mint: MintAccount | null;
}

/** Reads the owner's vault, token accounts, SOL, the VaultAuthority and the mint (one getMultipleAccounts). */
export async function readVaultChainView(rpc: SolanaRpc, config: Config, owner: PublicKey): Promise<VaultChainView> {
  const [vaultAddress] = findVaultAddress(config.programId, owner);
  const [authorityAddress] = findVaultAuthorityAddress(config.programId);
  const canonical = vaultTokenAccountAddress(vaultAddress, config.usdtMint);
  const userTokenAccount = associatedTokenAddress(owner, config.usdtMint);
  const keys = [owner, vaultAddress, canonical, userTokenAccount, authorityAddress, config.usdtMint];
  const { slot, accounts } = await getAccounts(rpc, keys);
  const [user, vaultAccount, canonicalAccount, userAta, authorityAccount, mintAccount] = accounts;
  const vault = decodeOwned(vaultAccount ?? null, config.programId, decodeCollateralVault);
  let vaultToken = decodeTokenAccount(canonicalAccount ?? null);
  let vaultTokenSlot = slot;
  if (vault && !vault.tokenAccount.equals(canonical)) {
    // A vault created with another mint: its token account is not the canonical one for our mint.
    const other = await getAccounts(rpc, [vault.tokenAccount], { minContextSlot: slot });
    vaultToken = decodeTokenAccount(other.accounts[0] ?? null);
    vaultTokenSlot = other.slot;
  }
  return {
    slot,
    owner,
    vaultAddress,
    canonicalVaultTokenAccount: canonical,
    userTokenAccount,
    userLamports: user?.lamports ?? 0n,
    vault,
    vaultAccount: vaultAccount ?? null,
    vaultToken,
    vaultTokenSlot,
    canonicalVaultTokenAccountExists: canonicalAccount != null,
    userToken: decodeTokenAccount(userAta ?? null),
    authority: decodeOwned(authorityAccount ?? null, config.programId, decodeVaultAuthority),
    mint: decodeMint(mintAccount ?? null),
  };
}
