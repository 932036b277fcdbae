import { latency } from "./stats.ts";

export interface LoadResult {
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  perSecond: number;
  firstError: string | null;
}

/**
 * Runs `once` from `concurrency` loops for `durationMs` (closed loop: each loop waits for its answer before the next
 * request) and reports latency percentiles, throughput and failures (a throw or a non-2xx counts as an error).
 */
export async function closedLoop(
  once: () => Promise<boolean>,
  opts: { concurrency: number; durationMs: number },
): Promise<LoadResult> {
  const sample: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  const end = started + opts.durationMs;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const ok = await once();
        sample.push(performance.now() - t0);
        if (!ok) errors++;
      } catch (err) {
        errors++;
        firstError ??= String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  const { p50, p99 } = latency(sample);
  return {
    p50,
    p99,
    requests: sample.length + errors,
    errors,
    perSecond: Math.round(sample.length / seconds),
    firstError,
  };
}

/** One GET that counts as successful on 2xx (the body is read so the connection is reused). */
export function getter(url: () => string, onError?: (status: number, body: string) => void) {
  return async () => {
    // A request still unanswered 15 s after it was sent counts as an error (and does not stall the run).
    const res = await fetch(url(), { signal: AbortSignal.timeout(15_000) });
    const body = await res.text();
    if (!res.ok) onError?.(res.status, body);
    return res.ok;
  };
}
