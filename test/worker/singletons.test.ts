import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env.ts";
import { schedulerStub } from "../../src/jobs/scheduler.ts";
import { singletonName } from "../../src/platform/singletons.ts";
import { ingestor } from "../../src/platform/stubs.ts";

const bindings = env as unknown as Bindings;

describe("singleton Durable Objects", () => {
  it("are named for the current generation, so a new location hint takes effect under a new name", () => {
    expect(singletonName({ singletonGeneration: 0 }, "ingestor")).toBe("ingestor");
    expect(singletonName({ singletonGeneration: 3 }, "ingestor")).toBe("ingestor-g3");
  });

  it("the current Ingestor and Scheduler know their own names and keep their loops", async () => {
    for (const [stub, name] of [
      [ingestor(bindings), "ingestor"],
      [schedulerStub(bindings), "scheduler"],
    ] as const) {
      const seen = await runInDurableObject(stub, async (_instance, state) => state.id.name);
      expect(seen).toBe(name);
    }
  });

  it("an Ingestor or Scheduler of an older generation stops its alarm loop and clears its storage when it wakes", async () => {
    const namespaces = { ingestor: bindings.INGESTOR, scheduler: bindings.SCHEDULER } as unknown as Record<
      string,
      DurableObjectNamespace
    >;
    for (const [base, namespace] of Object.entries(namespaces)) {
      const retired = namespace.get(namespace.idFromName(`${base}-g${Date.now()}`));
      await runInDurableObject(retired, async (_instance, state) => {
        await state.storage.put("leftover", 1);
        await state.storage.setAlarm(Date.now() + 60_000);
      });
      expect(await runDurableObjectAlarm(retired)).toBe(true);
      const after = await runInDurableObject(retired, async (_instance, state) => ({
        alarm: await state.storage.getAlarm(),
        keys: [...(await state.storage.list()).keys()],
      }));
      expect(after).toEqual({ alarm: null, keys: [] });
    }
  });
});
