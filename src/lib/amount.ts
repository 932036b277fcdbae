/** u64 token amounts: exact parsing of API input and exact formatting for display (STYLE.md §5). */
export const U64_MAX = 18446744073709551615n;
export const USDT_DECIMALS = 6;

export type AmountProblem = "not_an_integer" | "negative" | "too_large" | "unsafe_number" | "wrong_type" | "empty";

/** Human explanations of each problem, used in API errors. */
export const AMOUNT_PROBLEMS: Record<AmountProblem, string> = {
  not_an_integer: "must be a whole number of base units (1 USDT = 1000000); fractions are not accepted",
  negative: "must not be negative",
  too_large: "must not exceed 18446744073709551615 (u64 max)",
  unsafe_number:
    "is larger than 9007199254740991 (2^53-1) and cannot be sent as a JSON number without losing precision; send it as a decimal string",
  wrong_type: "must be an integer number or a decimal string of base units",
  empty: "must not be empty",
};

/**
 * Parses an amount in base units from JSON: a safe-integer number or a string of decimal digits.
 * Never rounds: fractions, exponents, negatives and values above u64 max are refused.
 */
export function parseAmount(value: unknown): { ok: true; value: bigint } | { ok: false; problem: AmountProblem } {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || !Number.isInteger(value)) return { ok: false, problem: "not_an_integer" };
    if (value < 0) return { ok: false, problem: "negative" };
    if (!Number.isSafeInteger(value)) return { ok: false, problem: "unsafe_number" };
    return { ok: true, value: BigInt(value) };
  }
  if (typeof value === "string") {
    if (value.length === 0) return { ok: false, problem: "empty" };
    if (/^-\d/.test(value)) return { ok: false, problem: "negative" };
    if (/^\d+\.\d*$|^\d*\.\d+$|^\d+(\.\d+)?[eE][+-]?\d+$/.test(value)) return { ok: false, problem: "not_an_integer" };
    if (!/^\d{1,30}$/.test(value)) return { ok: false, problem: "wrong_type" };
    const parsed = BigInt(value);
    if (parsed > U64_MAX) return { ok: false, problem: "too_large" };
    return { ok: true, value: parsed };
  }
  return { ok: false, problem: "wrong_type" };
}

/**
 * Formats base units as USDT with at least two decimals and as many more as needed to stay exact:
 * 1000000000n → "1000.00 USDT"; with grouping, 50000000000n → "50,000.00 USDT"; 1234567n → "1.234567 USDT".
 */
export function formatUsdt(amount: bigint, opts: { grouping?: boolean } = {}): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const scale = 10n ** BigInt(USDT_DECIMALS);
  let whole = (abs / scale).toString();
  let fraction = (abs % scale).toString().padStart(USDT_DECIMALS, "0").replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  if (opts.grouping) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${whole}.${fraction} USDT`;
}
