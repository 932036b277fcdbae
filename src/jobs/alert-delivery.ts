import { deliverAlerts } from "../platform/delivery/deliver.ts";
import type { Job } from "./types.ts";

/**
 * Minute cron: delivers whatever the outbox still holds (events whose invocation died before delivering them,
 * retries that came due, floods held by the cap) and prunes old outbox rows. Recorded only when it did something.
 */
export const alertDeliveryJob: Job = {
  name: "alert-delivery",
  async run(_env, _ctx, services) {
    const figures = await deliverAlerts(services, { prune: true });
    if (!figures || Object.values(figures).every((n) => n === 0)) return null;
    return { ...figures };
  },
};
