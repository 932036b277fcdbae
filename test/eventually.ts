/**
 * The suites' one way to wait: poll `check` until it gives a value (anything but undefined), or fail after the
 * timeout naming what was awaited and the last error seen. A check that throws is retried unless `retryOn` says the
 * error is final. Nothing waits a fixed time: a test proceeds as soon as its condition holds.
 */
export interface EventuallyOptions {
  timeoutMs?: number;
  everyMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
  /** Whether a thrown error may pass with time (default: yes); a final one is rethrown at once. */
  retryOn?: (err: unknown) => boolean;
}

export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: EventuallyOptions | number = {},
  everyMs?: number,
): Promise<T> {
  const opts = typeof options === "number" ? { timeoutMs: options, everyMs } : options;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      if (opts.retryOn && !opts.retryOn(err)) throw err;
      last = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
  }
  const what = opts.what ?? "condition";
  throw new Error(`${what} not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}
