/**
 * Who may lock, unlock or transfer collateral. The program accepts any signer (vault-program.md §7, bug §8.1) and
 * never reads its own `VaultAuthority.authorized_programs`; the backend applies that list itself — in the
 * privileged builders, in the relay, and in the watchdog — with this one rule.
 */
import type { PublicKey } from "@solana/web3.js";
import { decodeOwned, getAccounts, type RawAccount } from "../chain/accounts.ts";
import { decodeVaultAuthority, findVaultAuthorityAddress, type VaultAuthority } from "../chain/program/index.ts";
import type { SolanaRpc } from "../chain/rpc.ts";

/**
 * True when the signing authority, or the program that invoked the vault program (null for a top-level
 * instruction), is in the on-chain authorized list. An exchange's trading program that locks collateral by CPI
 * signs with a PDA of its own: the list names the program, and the invoker is what counts.
 */
export function isAuthorizedCaller(
  authorized: ReadonlySet<string>,
  caller: { authority: string; invoker: string | null },
): boolean {
  return authorized.has(caller.authority) || (caller.invoker !== null && authorized.has(caller.invoker));
}

/** The authorized list of a decoded VaultAuthority, as base58 strings (empty when the account is missing). */
export function authorizedSet(authority: VaultAuthority | null): Set<string> {
  return new Set((authority?.authorizedPrograms ?? []).map((k) => k.toBase58()));
}

/** Decodes the VaultAuthority from its raw account; null when it is missing or not the program's. */
export function decodeAuthorityAccount(account: RawAccount | null | undefined, programId: PublicKey) {
  return decodeOwned(account, programId, decodeVaultAuthority);
}

/** Reads the VaultAuthority (one getMultipleAccounts) and returns its authorized list (empty when missing). */
export async function readAuthorizedSet(rpc: SolanaRpc, programId: PublicKey): Promise<Set<string>> {
  const [address] = findVaultAuthorityAddress(programId);
  const { accounts } = await getAccounts(rpc, [address]);
  return authorizedSet(decodeAuthorityAccount(accounts[0], programId));
}
