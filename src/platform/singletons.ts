import type { Config } from "../config.ts";

/**
 * The singleton Durable Objects (Ingestor, Scheduler, Metrics) are created near the database: a location hint applies
 * only when an object is first created, so moving one means a new name. `SINGLETON_GENERATION` gives the names of
 * the current generation; an object of an older generation retires itself (stops its alarm loop, clears its storage)
 * the next time it wakes. Their durable state lives in Postgres, so a new generation starts where the old one stood.
 */
export function singletonName(config: Pick<Config, "singletonGeneration">, base: string): string {
  return config.singletonGeneration === 0 ? base : `${base}-g${config.singletonGeneration}`;
}

/** The stub of the current generation's singleton `base`, created at `SINGLETON_LOCATION_HINT` when set. */
export function singletonStub<T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  config: Pick<Config, "singletonGeneration" | "singletonLocationHint">,
  base: string,
): DurableObjectStub<T> {
  const id = namespace.idFromName(singletonName(config, base));
  return config.singletonLocationHint
    ? namespace.get(id, { locationHint: config.singletonLocationHint })
    : namespace.get(id);
}

/** True for an object named for another generation of `base` (its loop should stop). */
export function isRetiredSingleton(
  ctx: DurableObjectState,
  config: Pick<Config, "singletonGeneration">,
  base: string,
): boolean {
  const name = ctx.id.name;
  return name !== undefined && name !== singletonName(config, base);
}

/** Stops a retired singleton for good: no alarm, no storage (a later wake finds nothing to do). */
export async function retireSingleton(ctx: DurableObjectState): Promise<void> {
  await ctx.storage.deleteAlarm();
  await ctx.storage.deleteAll();
}
