/** Milliseconds spent per named phase, summed (ingestion figures and the benchmark's breakdown). */
export type Phases = Record<string, number>;

/** Runs `work`, adding its duration to `phases[name]` when `phases` is given. */
export async function timed<T>(phases: Phases | undefined, name: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    if (phases) phases[name] = (phases[name] ?? 0) + Date.now() - t0;
  }
}
