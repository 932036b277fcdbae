/**
 * Transactions the provider has pruned. A getTransaction null means "not yet" for a young transaction (a lagging
 * node, or one not confirmed there yet) and "gone" only for one older than the provider's history (RPC_HISTORY_SLOTS,
 * by slot age against the tip): only then is it fetched from the archive (SOLANA_ARCHIVE_RPC_URL) or, failing that,
 * recorded as a gap with an alert and skipped, so ingestion goes on. Open gaps are backfilled from the archive when
 * one is configured.
 */
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { ChainTx, Fetched, SignatureInfo } from "../chain/chain-tx.ts";
import { fetchTransactions, isChainTx } from "../chain/chain-tx.ts";
import { SolanaRpc } from "../chain/rpc.ts";
import { budgetLink } from "../chain/rpc-budget.ts";
import { chainTransactions, ingestGaps } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { raiseAlert, resolveAlert } from "../platform/alerts.ts";
import type { Services } from "../platform/services.ts";

/** The archive's client (background class, its own budget object), or null when none is configured. */
export function archiveRpc(env: Bindings, services: Services): SolanaRpc | null {
  const { config } = services;
  if (config.archiveRpcUrls.length === 0) return null;
  return new SolanaRpc(
    { ...config, rpcUrls: config.archiveRpcUrls },
    { budget: budgetLink(env, config.rpcBudget), priority: "background" },
  );
}

/** How a batch's fetch turned out, signature by signature. */
export interface Sorted {
  /** Ready to commit, in chain order: fetched, or (pruned) fetched from the archive. */
  ready: ChainTx[];
  /** Index of the first signature that is not available yet (young: null or an error); -1 when none. */
  missing: number;
  /** Pruned, and not in the archive either: to be recorded as gaps. */
  gaps: SignatureInfo[];
}

/**
 * Sorts a fetched batch by slot age. A signature the node did not return (null, or an error such as "history not
 * available") is pruned when it is older than the history horizon — then it is looked up in the archive, else it
 * is a gap — and "not available yet" otherwise, which ends the batch there. The tip is asked only when there is
 * something to judge.
 */
export async function sortFetched(
  services: Services,
  archive: SolanaRpc | null,
  infos: SignatureInfo[],
  fetched: Fetched[],
): Promise<Sorted> {
  const unavailable = fetched.flatMap((f, i) => (isChainTx(f) ? [] : [i]));
  let missing = -1;
  if (unavailable.length > 0) {
    // The confirmed tip as this client sees it: a lagging node's lower tip only makes a transaction look younger.
    const tip = await services.rpc.call<number>("getSlot", [{ commitment: "confirmed" }]);
    missing = unavailable.find((i) => tip - infos[i]!.slot <= services.config.rpcHistorySlots) ?? -1;
  }
  const end = missing < 0 ? fetched.length : missing;
  const lost = unavailable.filter((i) => i < end);
  const fromArchive = new Map<number, ChainTx>();
  if (archive && lost.length > 0) {
    const again = await fetchTransactions(
      archive,
      lost.map((i) => infos[i]!.signature),
    );
    again.forEach((f, k) => {
      if (isChainTx(f)) fromArchive.set(lost[k]!, f);
    });
  }
  const ready: ChainTx[] = [];
  const gaps: SignatureInfo[] = [];
  for (let i = 0; i < end; i++) {
    const f = fetched[i]!;
    const found = isChainTx(f) ? f : fromArchive.get(i);
    if (found) ready.push(found);
    else gaps.push(infos[i]!);
  }
  return { ready, missing, gaps };
}

function alertKey(stream: string): string {
  return `ingest_gap:${stream}`;
}

/**
 * Records pruned transactions (those not already stored, e.g. by the webhook) and raises one alert per stream
 * while any gap is open. Runs before the batch that skips them commits, so a pass dying in between leaves the gap
 * recorded (the next pass finds it again and records nothing twice). Returns how many gaps were new.
 */
export async function recordGaps(services: Services, stream: string, gaps: SignatureInfo[]): Promise<number> {
  if (gaps.length === 0) return 0;
  const { db } = services.db();
  const stored = await db
    .select({ signature: chainTransactions.signature })
    .from(chainTransactions)
    .where(
      inArray(
        chainTransactions.signature,
        gaps.map((g) => g.signature),
      ),
    );
  const known = new Set(stored.map((s) => s.signature));
  const open = gaps.filter((g) => !known.has(g.signature));
  if (open.length === 0) return 0;
  const inserted = await db
    .insert(ingestGaps)
    .values(
      open.map((g) => ({
        signature: g.signature,
        stream,
        slot: BigInt(g.slot),
        blockTime: g.blockTime === null ? null : new Date(g.blockTime * 1000),
      })),
    )
    .onConflictDoNothing({ target: ingestGaps.signature })
    .returning({ signature: ingestGaps.signature });
  const archive = services.config.archiveRpcUrls.length > 0;
  await raiseAlert(db, {
    kind: "ingest_gap",
    severity: "critical",
    dedupKey: alertKey(stream),
    message: archive
      ? "Transactions pruned by the RPC provider are missing from the archive too: history is incomplete"
      : "Transactions pruned by the RPC provider were skipped: history is incomplete until SOLANA_ARCHIVE_RPC_URL backfills them",
    details: { stream, first: open[0]!.signature, slot: open[0]!.slot, count: open.length },
  });
  services.log.warn("pruned transactions skipped as gaps", { stream, count: open.length });
  return inserted.length;
}

/** The oldest open gaps of a stream. */
export async function openGaps(services: Services, stream: string, limit: number): Promise<SignatureInfo[]> {
  const { db } = services.db();
  const rows = await db
    .select()
    .from(ingestGaps)
    .where(and(eq(ingestGaps.stream, stream), isNull(ingestGaps.backfilledAt)))
    .orderBy(asc(ingestGaps.slot))
    .limit(limit);
  return rows.map((r) => ({
    signature: r.signature,
    slot: Number(r.slot),
    err: null,
    blockTime: r.blockTime === null ? null : Math.floor(r.blockTime.getTime() / 1000),
  }));
}

/** Marks gaps backfilled; resolves the stream's alert once none is left open. */
export async function closeGaps(services: Services, stream: string, signatures: string[]): Promise<void> {
  if (signatures.length === 0) return;
  const { db } = services.db();
  await db
    .update(ingestGaps)
    .set({ backfilledAt: sql`now()` })
    .where(and(inArray(ingestGaps.signature, signatures), isNull(ingestGaps.backfilledAt)));
  const [left] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(ingestGaps)
    .where(and(eq(ingestGaps.stream, stream), isNull(ingestGaps.backfilledAt)));
  if ((left?.n ?? 0) === 0) await resolveAlert(db, alertKey(stream));
}
