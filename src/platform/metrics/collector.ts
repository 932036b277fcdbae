import type { SolanaRpc } from "../../chain/rpc.ts";
import { loadConfig } from "../../config.ts";
import type { Bindings } from "../../env.ts";
import { singletonStub } from "../singletons.ts";
import { type Labels, labelKey } from "./labels.ts";
import type { CounterDelta, Metrics } from "./store.ts";

/** The Metrics singleton's stub (platform/singletons.ts: one generation at a time). */
export function metricsStub(env: Bindings): DurableObjectStub<Metrics> {
  return singletonStub(env.METRICS, loadConfig(env), "metrics");
}

/**
 * One invocation's counter increments, sent to the Metrics object in one call when the invocation ends (with the
 * RPC client's per-method counts). Nothing is sent when nothing was counted.
 */
export class MetricsCollector {
  private readonly deltas = new Map<string, CounterDelta>();
  /** What was already sent of the RPC client's cumulative counts. */
  private readonly rpcSent = new Map<string, { requests: number; items: number; rateLimited: number }>();

  /**
   * Adds `value` to counter `name` with `labels`. A zero is dropped unless `register` is set: then the series exists
   * from its first event even when the amount is 0 (a job run that took under the runtime's timer resolution).
   */
  count(name: string, labels: Labels, value = 1, register = false): void {
    if (value === 0 && !register) return;
    const key = `${name}{${labelKey(labels)}}`;
    const current = this.deltas.get(key);
    if (current) current[2] += value;
    else this.deltas.set(key, [name, labelKey(labels), value]);
  }

  /** Sends the increments (and `rpc`'s use by method) to the Metrics object, then forgets them. */
  async flush(env: Bindings, rpc?: SolanaRpc): Promise<void> {
    for (const [method, c] of Object.entries(rpc?.byMethod ?? {})) {
      const sent = this.rpcSent.get(method) ?? { requests: 0, items: 0, rateLimited: 0 };
      this.count("vault_rpc_requests_total", { method }, c.requests - sent.requests);
      this.count("vault_rpc_items_total", { method }, c.items - sent.items);
      this.count("vault_rpc_rate_limited_total", { method }, c.rateLimited - sent.rateLimited);
      this.rpcSent.set(method, { ...c });
    }
    if (this.deltas.size === 0) return;
    const batch = [...this.deltas.values()];
    this.deltas.clear();
    await metricsStub(env).add(batch);
  }
}

/** An owner's hub reports its open sockets (best effort: a failure only delays the gauge until the next report). */
export async function reportOpenSockets(env: Bindings, owner: string, open: number): Promise<void> {
  await metricsStub(env).setOpenSockets(owner, open);
}
