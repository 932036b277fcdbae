/** The backend's one codec for the collateral-vault program (shared/vault-program.md). */
export * from "./accounts.ts";
export { BorshError } from "./borsh.ts";
export * from "./constants.ts";
export * from "./decode-instruction.ts";
export * from "./errors.ts";
export * from "./event-logs.ts";
export * from "./events.ts";
export * from "./instructions.ts";
export * from "./pda.ts";
