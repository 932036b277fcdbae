import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env.ts";
import { REBROADCAST_INTERVAL_MS, relayTick, type TrackedRequest, trackKey } from "./relay-tracker.ts";
import { backgroundServices } from "./services.ts";

/**
 * One Durable Object per vault owner. It follows the owner's relayed transactions to a final status
 * (rebroadcasting until they land or expire) on its alarm, so no HTTP request is held open.
 */
export class VaultOwnerHub extends DurableObject<Bindings> {
  /** Internal API, reached only through the Worker's own stub (never routed from the internet). */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/track") {
      const entry = (await request.json()) as TrackedRequest;
      await this.ctx.storage.put(trackKey(entry.transactionId), entry);
      await this.scheduleAlarm(Date.now() + REBROADCAST_INTERVAL_MS);
      return new Response(null, { status: 204 });
    }
    return new Response("not found", { status: 404 });
  }

  override async alarm(): Promise<void> {
    const services = backgroundServices(this.env, { durableObject: "VaultOwnerHub", id: this.ctx.id.toString() });
    try {
      const remaining = await relayTick(this.ctx.storage, services, Date.now());
      if (remaining > 0) await this.scheduleAlarm(Date.now() + REBROADCAST_INTERVAL_MS);
    } finally {
      await services.close();
    }
  }

  /** Sets the alarm unless an earlier one is already set. */
  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}

/** The owner's hub stub. */
export function ownerHub(env: Bindings, owner: string): DurableObjectStub<VaultOwnerHub> {
  return env.OWNER_HUB.get(env.OWNER_HUB.idFromName(owner));
}
