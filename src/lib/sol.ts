/** Formats lamports as SOL exactly (9 decimals, trailing zeros trimmed): 1500000n → "0.0015 SOL". */
export function formatSol(lamports: bigint): string {
  const whole = lamports / 1_000_000_000n;
  const fraction = (lamports % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${whole}${fraction ? `.${fraction}` : ""} SOL`;
}
