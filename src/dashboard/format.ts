/** Amounts (USDT base units, 6 decimals), keys and times formatted for people. */

const DECIMALS = 6n;
const UNIT = 10n ** DECIMALS;

/** Any integer-ish API value (number, bigint or decimal string) as a bigint; null when absent or malformed. */
export function toBig(value: unknown): bigint | null {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  return null;
}

/** 1234567890 → "1,234.567890"-style text trimmed to 2..6 decimals: "1,234.56789 USDT". */
export function formatUsdt(value: unknown, opts: { unit?: boolean } = {}): string {
  const v = toBig(value);
  if (v === null) return "—";
  const negative = v < 0n;
  const abs = negative ? -v : v;
  const whole = (abs / UNIT).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let frac = (abs % UNIT).toString().padStart(Number(DECIMALS), "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  return `${negative ? "-" : ""}${whole}.${frac}${opts.unit === false ? "" : " USDT"}`;
}

/** "12.5" (whole USDT, up to 6 decimals) → 12500000n base units; null when it is not a positive amount. */
export function parseUsdt(text: string): bigint | null {
  const match = /^\s*(\d{1,13})(?:\.(\d{1,6}))?\s*$/.exec(text);
  if (!match) return null;
  const units = BigInt(match[1]!) * UNIT + BigInt((match[2] ?? "").padEnd(6, "0"));
  return units > 0n ? units : null;
}

/** Base units as a plain number of USDT, for chart scales only (never for display of exact values). */
export function usdtNumber(value: unknown): number {
  const v = toBig(value);
  return v === null ? 0 : Number(v) / 1e6;
}

/** "7xKt…c123" for long keys and signatures. */
export function shortKey(key: string | null | undefined, keep = 4): string {
  if (!key) return "—";
  return key.length <= keep * 2 + 1 ? key : `${key.slice(0, keep)}…${key.slice(-keep)}`;
}

/** An ISO time in the reader's locale, or "—". */
export function formatTime(iso: unknown): string {
  if (typeof iso !== "string" && typeof iso !== "number") return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "—" : d.toLocaleString();
}

/** True for a base58 public key (32 bytes → 32–44 characters). */
export function looksLikePubkey(text: string): boolean {
  return /^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(text.trim());
}
