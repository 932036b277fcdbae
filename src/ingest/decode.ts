/** Turns a program transaction into history rows: one per event (two for a transfer), plus admin instructions. */
import type { PublicKey } from "@solana/web3.js";
import type { ChainTx } from "../chain/chain-tx.ts";
import {
  type DecodedVaultInstruction,
  decodeVaultInstruction,
  type ProgramEvent,
  parseProgramEvents,
} from "../chain/program/index.ts";
import type { TransactionType } from "../db/schema.ts";
import { intentText } from "../vault/intent.ts";

/** A transaction with its vault events (none when it failed: its logs describe rolled-back work) and instructions. */
export interface DecodedTx {
  tx: ChainTx;
  /** Each with the program that invoked the vault program for it (null: a top-level instruction). */
  events: ProgramEvent[];
  /** Vault-program instructions, top-level and CPI, in execution order. */
  instructions: DecodedVaultInstruction[];
  /** Vault PDAs the events touch (their accounts are read to refresh the cache and resolve transfer owners). */
  vaults: string[];
  /** Its top-level vault instructions as intent text (vault/intent.ts): which request it may carry out. */
  intent: string | null;
}

/** A `transactions` row derived from the chain, before request matching. */
export interface HistoryRow {
  owner: string;
  type: TransactionType;
  amount: bigint | null;
  /** Position of the event among the transaction's vault events (for admin instructions: among its vault instructions). */
  eventIndex: number;
  counterparty: string | null;
  reason: string | null;
  details: Record<string, unknown>;
}

/** Decodes events (top-level and CPI alike) and vault instructions of one transaction. */
export function decodeTx(tx: ChainTx, programId: PublicKey): DecodedTx {
  const events = tx.err ? [] : parseProgramEvents(tx.logs, programId);
  const instructions: DecodedVaultInstruction[] = [];
  for (const ix of tx.instructions) {
    if (!ix.programId.equals(programId)) continue;
    const decoded = decodeVaultInstruction(ix.data, ix.accounts);
    if (decoded) instructions.push(decoded);
  }
  const vaults = new Set<string>();
  for (const { event } of events) {
    if (event.name === "TransferCollateralEvent") {
      vaults.add(event.data.fromVault.toBase58());
      vaults.add(event.data.toVault.toBase58());
    } else if (event.name !== "VaultPausedEvent") {
      vaults.add(event.data.vault.toBase58());
    }
  }
  const intent = intentText(
    tx.instructions.filter((ix) => !ix.inner),
    programId,
  );
  return { tx, events, instructions, vaults: [...vaults], intent };
}

/**
 * History rows of a successful transaction. `ownerOf` maps a vault PDA to its owner (transfer events carry only
 * PDAs); a transfer side whose owner is unknown is skipped rather than guessed.
 */
export function historyRows(d: DecodedTx, ownerOf: (vault: string) => string | null): HistoryRow[] {
  const rows: HistoryRow[] = [];
  const row = (r: Omit<HistoryRow, "counterparty" | "reason"> & Partial<HistoryRow>) =>
    rows.push({ counterparty: null, reason: null, ...r });
  for (const { event, index } of d.events) {
    switch (event.name) {
      case "VaultInitializedEvent":
        row({ owner: b58(event.data.owner), type: "initialize", amount: null, eventIndex: index, details: {} });
        break;
      case "DepositEvent":
      case "WithdrawEvent":
        row({
          owner: b58(event.data.user),
          type: event.name === "DepositEvent" ? "deposit" : "withdrawal",
          amount: event.data.amount,
          eventIndex: index,
          details: {},
        });
        break;
      case "LockCollateralEvent":
      case "UnlockCollateralEvent": {
        const by = event.name === "LockCollateralEvent" ? event.data.lockedBy : event.data.unlockedBy;
        row({
          owner: b58(event.data.user),
          type: event.name === "LockCollateralEvent" ? "lock" : "unlock",
          amount: event.data.amount,
          eventIndex: index,
          details: { authority: b58(by) },
        });
        break;
      }
      case "TransferCollateralEvent": {
        const from = ownerOf(b58(event.data.fromVault));
        const to = ownerOf(b58(event.data.toVault));
        const details = {
          authority: b58(event.data.transferredBy),
          fromVault: b58(event.data.fromVault),
          toVault: b58(event.data.toVault),
        };
        const base = { amount: event.data.amount, eventIndex: index, reason: event.data.reason, details };
        if (from) row({ ...base, owner: from, type: "transfer_out", counterparty: to });
        if (to) row({ ...base, owner: to, type: "transfer_in", counterparty: from });
        break;
      }
      case "VaultPausedEvent":
        row({
          owner: b58(event.data.admin),
          type: "set_paused",
          amount: null,
          eventIndex: index,
          details: { isPaused: event.data.isPaused },
        });
        break;
    }
  }
  adminInstructionRows(d, row);
  return rows;
}

/** The admin instructions that emit no event: initialize_vault_authority, add/remove_authorized_program. */
function adminInstructionRows(d: DecodedTx, row: (r: HistoryRow) => void): void {
  d.instructions.forEach((ix, ordinal) => {
    const base = { amount: null, eventIndex: ordinal, counterparty: null, reason: null };
    if (ix.name === "initializeVaultAuthority") {
      row({ ...base, owner: b58(ix.accounts.admin), type: "initialize_authority", details: {} });
    } else if (ix.name === "addAuthorizedProgram" || ix.name === "removeAuthorizedProgram") {
      row({
        ...base,
        owner: b58(ix.accounts.admin),
        type: ix.name === "addAuthorizedProgram" ? "add_authorized_program" : "remove_authorized_program",
        details: { program: b58(ix.args.programId) },
      });
    }
  });
}

/** Owners a failed transaction concerns, from its instructions (a failed one emits no event). */
export function failedOwners(d: DecodedTx, ownerOf: (vault: string) => string | null): string[] {
  const owners = new Set<string>();
  for (const ix of d.instructions) {
    const a = ix.accounts as Record<string, PublicKey>;
    if (ix.name === "deposit" || ix.name === "withdraw" || ix.name === "initializeVault") owners.add(b58(a.user!));
    for (const v of [a.vault, a.fromVault, a.toVault]) {
      const owner = v ? ownerOf(b58(v)) : null;
      if (owner) owners.add(owner);
    }
  }
  return [...owners];
}

/** Vault PDAs named by a failed transaction's instructions. */
export function instructionVaults(d: DecodedTx): string[] {
  const out = new Set<string>();
  for (const ix of d.instructions) {
    const a = ix.accounts as Record<string, PublicKey>;
    for (const v of [a.vault, a.fromVault, a.toVault]) if (v) out.add(b58(v));
  }
  return [...out];
}

function b58(key: PublicKey): string {
  return key.toBase58();
}
