/**
 * Stubs of the Durable Objects that code below their own folders calls. Each is typed by its binding (wrangler's
 * generated Env names the class), so calling an object never imports the feature that defines it.
 */
import { loadConfig } from "../config.ts";
import type { Bindings } from "../env.ts";
import { singletonStub } from "./singletons.ts";

/** The owner's hub (src/realtime/owner-hub.ts): sockets, event log, relay tracking. */
export function ownerHub(env: Bindings, owner: string) {
  return env.OWNER_HUB.get(env.OWNER_HUB.idFromName(owner));
}

/** The Ingestor singleton's stub (of the current generation, near the database: see singletons.ts). */
export function ingestor(env: Bindings) {
  return singletonStub(env.INGESTOR, loadConfig(env), INGESTOR);
}

/** The Ingestor's singleton name. */
export const INGESTOR = "ingestor";

/** Arms the Ingestor's alarm loop if it is not running. */
export async function kickIngestor(env: Bindings): Promise<void> {
  await ingestor(env).kick();
}
