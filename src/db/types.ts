import { customType } from "drizzle-orm/pg-core";

/**
 * An unsigned 64-bit token amount: numeric(20,0) in Postgres, bigint in TypeScript. The driver returns numeric as
 * text, so no value ever passes through a JS number (STYLE.md §5).
 */
export const u64 = customType<{ data: bigint; driverData: string }>({
  dataType: () => "numeric(20, 0)",
  toDriver: (value) => value.toString(),
  fromDriver: (value) => BigInt(value),
});

/** A signed or wide integer (sums of u64, differences): numeric(40,0) ↔ bigint. */
export const bigNumeric = customType<{ data: bigint; driverData: string }>({
  dataType: () => "numeric(40, 0)",
  toDriver: (value) => value.toString(),
  fromDriver: (value) => BigInt(value),
});
