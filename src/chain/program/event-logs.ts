/** Extraction of vault events from a transaction's log messages, attributed by the runtime's invoke stack. */
import type { PublicKey } from "@solana/web3.js";
import { decodeEvent, type VaultEvent } from "./events.ts";

const INVOKE = /^Program (\S+) invoke \[(\d+)\]$/;
const SUCCESS = /^Program (\S+) success$/;
const FAILED = /^Program (\S+) failed: /;
const DATA_PREFIX = "Program data: ";

/** Decodes standard base64 with atob (web-standard: workerd and Node); null when malformed. */
function base64ToBytes(text: string): Uint8Array | null {
  try {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/** A vault event with its position and the program that invoked ours for it. */
export interface ProgramEvent {
  event: VaultEvent;
  /** Position among this transaction's vault events. */
  index: number;
  /**
   * The program that invoked the vault program when it emitted this event (the frame below ours on the invoke
   * stack), or null when ours ran as a top-level instruction. Only the runtime writes `invoke` lines, so a program
   * cannot forge this.
   */
  invoker: string | null;
}

/**
 * Vault events in `logs`, in order: only `Program data:` lines written while OUR program is the executing program
 * (top of the invoke stack), including when another program CPI'd into ours, and never lines of programs our
 * program invoked. `index` is the position among this transaction's vault events. Lines after "Log truncated"
 * are absent, so parsing simply stops there; a malformed or unknown payload is skipped but still counted.
 */
export function parseProgramEvents(logs: readonly string[], programId: PublicKey | string): ProgramEvent[] {
  const ours = typeof programId === "string" ? programId : programId.toBase58();
  const stack: string[] = [];
  const out: ProgramEvent[] = [];
  let index = 0;
  for (const line of logs) {
    const invoke = INVOKE.exec(line);
    if (invoke) {
      // The depth in brackets is authoritative; it resynchronises the stack if a line was lost.
      stack.length = Math.max(0, Number(invoke[2]) - 1);
      stack.push(invoke[1]!);
      continue;
    }
    if (SUCCESS.test(line) || FAILED.test(line)) {
      stack.pop();
      continue;
    }
    if (line === "Log truncated") break;
    if (!line.startsWith(DATA_PREFIX) || stack[stack.length - 1] !== ours) continue;
    // sol_log_data writes each chunk as its own base64 word; emit! passes one chunk.
    const first = line.slice(DATA_PREFIX.length).split(" ")[0] ?? "";
    const bytes = base64ToBytes(first);
    const event = bytes ? decodeEvent(bytes) : null;
    if (event) out.push({ event, index, invoker: stack.length > 1 ? stack[stack.length - 2]! : null });
    index++;
  }
  return out;
}
