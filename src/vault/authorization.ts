/**
 * Who may lock, unlock or transfer collateral, as the exchange means it. The program checks nothing (vault-program.md
 * §8.1), so the backend applies the rule it was meant to: the caller is authorized when the signing authority OR the
 * program that invoked the vault program (null for a top-level instruction) is in `VaultAuthority.authorized_programs`.
 * An exchange's trading program locks by CPI with a PDA of its own as authority: the PDA is not listed, the program is.
 */
export function isAuthorizedCaller(
  authorized: ReadonlySet<string>,
  caller: { authority: string; invoker: string | null },
): boolean {
  return authorized.has(caller.authority) || (caller.invoker !== null && authorized.has(caller.invoker));
}
