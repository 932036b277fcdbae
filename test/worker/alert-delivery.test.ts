import { env } from "cloudflare:workers";
import { and, eq, inArray, sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { alertDeliveries, alertEvents, alerts, cursors } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import type { Job } from "../../src/jobs/types.ts";
import { type AlertInput, raiseAlert, resolveAlerts } from "../../src/platform/alerts.ts";
import { callWithEnv } from "./helpers.ts";
import { fireCron, runJobsNow, withDb } from "./jobs-support.ts";

/** What dev/webhook-receiver.ts recorded for one call (kept in step with its `ReceivedCall`). */
interface ReceivedCall {
  path: string;
  headers: Record<string, string>;
  body: unknown;
  answered: number;
}

const ADMIN_KEY = "admin-key-0123456789abcdef";
const PD_KEY = "R0UT1NGKEY0123456789abcdefABCDEF";

/** A webhook of its own on the shared receiver: a fresh path, and alert kinds no other test raises. */
function webhook(name: string) {
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const path = `/${name}-${tag}`;
  const url = `${inject("webhookReceiverUrl")}${path}`;
  const letters = tag.replace(/\d/g, (d) => "abcdefghij"[Number(d)]!);
  return {
    path,
    url,
    kind: (what: string) => `t_${what}_${letters}`,
    received: async (): Promise<ReceivedCall[]> =>
      (await fetch(`${inject("webhookReceiverUrl")}/__received${path}`)).json(),
    /** The next `failures` calls about alerts of `kind` fail with `status` (others' alerts on this path do not). */
    failNext: async (kind: string, failures: number, status: number, retryAfter?: number) => {
      const res = await fetch(`${inject("webhookReceiverUrl")}/__plan${path}`, {
        method: "PUT",
        body: JSON.stringify({ failures, status, retryAfter, match: kind }),
      });
      await res.body?.cancel();
    },
  };
}

const alert = (kind: string, n = 0, over: Partial<AlertInput> = {}): AlertInput => ({
  kind,
  severity: "warning",
  dedupKey: `${kind}:${n}`,
  message: `${kind} number ${n}`,
  ...over,
});

/** A job that raises and resolves alerts, run the way the cron and the Scheduler run jobs (delivery follows). */
async function inJob(overrides: Record<string, string>, work: Job["run"]) {
  await runJobsNow([{ name: "test-alerts", run: work }], "test", overrides);
}

const raise = (vars: Record<string, string>, ...inputs: AlertInput[]) =>
  inJob(vars, async (_env, _ctx, services) => {
    for (const input of inputs) await raiseAlert(services.db().db, input);
    return null;
  });

const resolve = (vars: Record<string, string>, ...keys: string[]) =>
  inJob(vars, async (_env, _ctx, services) => {
    await resolveAlerts(services.db().db, keys);
    return null;
  });

/** The generic JSON calls about alerts of `kind` that the receiver answered with 2xx. */
async function delivered(hook: ReturnType<typeof webhook>, kind: string) {
  return (await hook.received()).filter(
    (c) => c.answered < 300 && (c.body as { alert?: { kind?: string }; kind?: string }).alert?.kind === kind,
  );
}

async function deliveryRows(kind: string) {
  return withDb((db) =>
    db
      .select({
        status: alertDeliveries.status,
        attempts: alertDeliveries.attempts,
        responseStatus: alertDeliveries.responseStatus,
        lastError: alertDeliveries.lastError,
        nextAttemptAt: alertDeliveries.nextAttemptAt,
        target: alertDeliveries.target,
        event: alertEvents.event,
      })
      .from(alertDeliveries)
      .innerJoin(alertEvents, eq(alertEvents.id, alertDeliveries.eventId))
      .where(eq(alertDeliveries.kind, kind))
      .orderBy(alertDeliveries.id),
  );
}

/** Lets the backoff elapse: the deliveries of `kind` become due now (the test's stand-in for waiting minutes). */
async function retryNow(kind: string) {
  await withDb((db) =>
    db.update(alertDeliveries).set({ nextAttemptAt: sql`now()` }).where(eq(alertDeliveries.kind, kind)),
  );
}

describe("alert delivery to webhooks", () => {
  it("sends each new alert and its resolution to a JSON webhook, once each and in order, right after raising", async () => {
    const hook = webhook("json");
    const kind = hook.kind("drift");
    const vars = { ALERT_WEBHOOK_URL: hook.url };
    await raise(vars, alert(kind, 1, { severity: "critical", owner: "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin" }));
    // The same condition raised again is the same alert: nothing new to deliver.
    await raise(vars, alert(kind, 1, { severity: "critical" }));
    await resolve(vars, `${kind}:1`);

    const calls = await delivered(hook, kind);
    expect(calls.map((c) => (c.body as { type: string }).type)).toEqual(["alert.raised", "alert.resolved"]);
    const raised = calls[0]!.body as Record<string, unknown> & { alert: Record<string, unknown> };
    expect(raised).toMatchObject({
      source: "vault-backend",
      alert: {
        kind,
        severity: "critical",
        message: `${kind} number 1`,
        owner: "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
      },
    });
    expect(calls[0]!.headers["idempotency-key"]).toBe(`${raised.alert.id}:raised`);
    expect(await deliveryRows(kind)).toMatchObject([
      { event: "raised", status: "sent", attempts: 1, responseStatus: 200 },
      { event: "resolved", status: "sent", attempts: 1, responseStatus: 200 },
    ]);
  });

  it("speaks Slack and PagerDuty Events v2 to the webhooks configured for them", async () => {
    const json = webhook("multi-json");
    const slack = webhook("multi-slack");
    const pd = webhook("multi-pd");
    const kind = json.kind("unauthorized");
    const vars = { ALERT_WEBHOOK_URL: `${json.url}, slack:${slack.url} pagerduty:${pd.url}#${PD_KEY}` };
    await raise(vars, alert(kind, 1, { severity: "critical", message: "lock signed by an unlisted authority" }));
    await resolve(vars, `${kind}:1`);

    const slackCalls = (await slack.received()).filter((c) =>
      String((c.body as { text?: string }).text).includes(kind),
    );
    expect(slackCalls.map((c) => (c.body as { text: string }).text)).toEqual([
      expect.stringMatching(
        new RegExp(`^:rotating_light: \\[critical\\] ${kind}: lock signed by an unlisted authority`),
      ),
      expect.stringMatching(new RegExp(`^:white_check_mark: Resolved: \\[critical\\] ${kind}`)),
    ]);
    const pdCalls = (await pd.received()).filter((c) => JSON.stringify(c.body).includes(kind) || c.answered < 300);
    const ours = pdCalls.map((c) => c.body as Record<string, unknown>);
    const trigger = ours.find((b) => (b.payload as { class?: string } | undefined)?.class === kind)!;
    expect(trigger).toMatchObject({
      routing_key: PD_KEY,
      event_action: "trigger",
      payload: { summary: `[${kind}] lock signed by an unlisted authority`, severity: "critical", class: kind },
    });
    expect(ours).toContainEqual({ routing_key: PD_KEY, event_action: "resolve", dedup_key: trigger.dedup_key });
    expect(await delivered(json, kind)).toHaveLength(2);
  });

  it("retries a receiver that fails, honouring Retry-After, and delivers in order once it recovers", async () => {
    const hook = webhook("flaky");
    const kind = hook.kind("flaky");
    const vars = { ALERT_WEBHOOK_URL: hook.url };
    await hook.failNext(kind, 1, 429, 120);
    await raise(vars, alert(kind, 1));
    let rows = await deliveryRows(kind);
    expect(rows).toMatchObject([{ event: "raised", status: "pending", attempts: 1, responseStatus: 429 }]);
    expect(rows[0]!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 100_000);

    // Still down (503) when the backoff ends; meanwhile the alert resolves: the resolution waits behind the raise.
    await hook.failNext(kind, 1, 503);
    await retryNow(kind);
    await resolve(vars, `${kind}:1`);
    rows = await deliveryRows(kind);
    expect(rows).toMatchObject([
      {
        event: "raised",
        status: "pending",
        attempts: 2,
        responseStatus: 503,
        lastError: expect.stringContaining("HTTP 503"),
      },
      { event: "resolved", status: "pending", attempts: 0 },
    ]);

    await retryNow(kind);
    await fireCron("* * * * *", vars);
    const calls = (await hook.received()).filter((c) => (c.body as { alert?: { kind?: string } }).alert?.kind === kind);
    expect(calls.map((c) => [(c.body as { type: string }).type, c.answered])).toEqual([
      ["alert.raised", 429],
      ["alert.raised", 503],
      ["alert.raised", 200],
      ["alert.resolved", 200],
    ]);
    expect(await deliveryRows(kind)).toMatchObject([
      { event: "raised", status: "sent", attempts: 3, responseStatus: 200, lastError: null },
      { event: "resolved", status: "sent", attempts: 1 },
    ]);
  });

  it("gives up on a receiver that refuses the message (4xx) without holding back the next alerts", async () => {
    const hook = webhook("refusing");
    const kind = hook.kind("refused");
    const vars = { ALERT_WEBHOOK_URL: hook.url };
    await hook.failNext(`${kind} number 1`, 1, 400);
    await raise(vars, alert(kind, 1), alert(kind, 2));
    expect(await deliveryRows(kind)).toMatchObject([
      { status: "failed", attempts: 1, responseStatus: 400 },
      { status: "sent", attempts: 1, responseStatus: 200 },
    ]);
  });

  it("turns a flood of one kind into one message with a count, and holds what exceeds the cap until the window frees", async () => {
    const hook = webhook("flood");
    const flood = hook.kind("flood");
    const trickle = hook.kind("trickle");
    const vars = { ALERT_WEBHOOK_URL: hook.url, ALERT_WEBHOOK_MAX_PER_KIND: "3", ALERT_WEBHOOK_WINDOW: "600" };
    await raise(vars, ...Array.from({ length: 12 }, (_, i) => alert(flood, i)), alert(trickle, 1), alert(trickle, 2));

    const calls = (await hook.received()).filter((c) => c.answered < 300).map((c) => c.body as Record<string, unknown>);
    const about = (kind: string) =>
      calls.filter((b) => b.kind === kind || (b.alert as { kind?: string } | undefined)?.kind === kind);
    expect(about(flood)).toEqual([
      expect.objectContaining({
        type: "alert.summary",
        kind: flood,
        count: 12,
        byEvent: { raised: 12, acknowledged: 0, resolved: 0 },
      }),
    ]);
    expect(about(trickle).map((b) => b.type)).toEqual(["alert.raised", "alert.raised"]);
    const rows = await deliveryRows(flood);
    expect(rows.filter((r) => r.status === "sent")).toHaveLength(1);
    expect(rows.filter((r) => r.status === "merged")).toHaveLength(11);

    // One more message fits in this window (cap 3); the next one waits until the window has room again.
    await raise(vars, alert(trickle, 3));
    await raise(vars, alert(trickle, 4));
    expect((await deliveryRows(trickle)).map((r) => r.status)).toEqual(["sent", "sent", "sent", "pending"]);
    // Ten minutes pass (the test moves the sent messages back in time): the window has room, the cron sends it.
    await withDb((db) =>
      db
        .update(alertDeliveries)
        .set({ sentAt: sql`${alertDeliveries.sentAt} - interval '11 minutes'` })
        .where(eq(alertDeliveries.kind, trickle)),
    );
    await fireCron("* * * * *", vars);
    expect((await deliveryRows(trickle)).map((r) => r.status)).toEqual(["sent", "sent", "sent", "sent"]);
  });

  it("never loses an alert whose invocation died before delivering it: the minute cron delivers it", async () => {
    const hook = webhook("outbox");
    const kind = hook.kind("orphan");
    const vars = { ALERT_WEBHOOK_URL: hook.url };
    // Raised and committed by an invocation that then died: no delivery ran after it.
    await withDb((db) => raiseAlert(db, alert(kind, 1)));
    expect(await delivered(hook, kind)).toHaveLength(0);
    await fireCron("* * * * *", vars);
    expect((await delivered(hook, kind)).map((c) => (c.body as { type: string }).type)).toEqual(["alert.raised"]);
  });

  it("writes nothing to the outbox when the raise rolls back with the work around it", async () => {
    const hook = webhook("rollback");
    const kind = hook.kind("rolledback");
    await withDb((db) =>
      db
        .transaction(async (tx) => {
          await raiseAlert(tx, alert(kind, 1));
          throw new Error("the repair failed");
        })
        .catch(() => {}),
    );
    await fireCron("* * * * *", { ALERT_WEBHOOK_URL: hook.url });
    const events = await withDb((db) =>
      db.select().from(alertEvents).innerJoin(alerts, eq(alerts.id, alertEvents.alertId)).where(eq(alerts.kind, kind)),
    );
    expect(events).toEqual([]);
    expect(await delivered(hook, kind)).toHaveLength(0);
  });

  it("waits while another invocation holds the delivery lease, and takes over once that lease expires", async () => {
    const hook = webhook("lease");
    const kind = hook.kind("leased");
    const vars = { ALERT_WEBHOOK_URL: hook.url };
    const expiresAt = Date.now() + 60_000;
    await withDb(async (db) => {
      await db
        .insert(cursors)
        .values({ name: "alert-delivery", state: { holder: null, expiresAt: 0 } })
        .onConflictDoNothing();
      await db
        .update(cursors)
        .set({ state: { holder: "a-worker-that-died", expiresAt } })
        .where(eq(cursors.name, "alert-delivery"));
      await raiseAlert(db, alert(kind, 1));
    });
    try {
      await fireCron("* * * * *", vars);
      expect(await delivered(hook, kind)).toHaveLength(0);
    } finally {
      await withDb((db) =>
        db
          .update(cursors)
          .set({ state: { holder: null, expiresAt: 0 } })
          .where(and(eq(cursors.name, "alert-delivery"), sql`${cursors.state}->>'holder' = 'a-worker-that-died'`)),
      );
    }
    await fireCron("* * * * *", vars);
    expect(await delivered(hook, kind)).toHaveLength(1);
  });

  it("tells the webhooks when an admin acknowledges an alert", async () => {
    const hook = webhook("ack");
    const kind = hook.kind("acked");
    const vars = { ALERT_WEBHOOK_URL: hook.url };
    await raise(vars, alert(kind, 1));
    const [row] = await withDb((db) => db.select({ id: alerts.id }).from(alerts).where(eq(alerts.kind, kind)));
    const { status } = await callWithEnv(vars, `/monitor/alerts/${row!.id}/ack`, {
      method: "POST",
      headers: { "x-api-key": ADMIN_KEY },
    });
    expect(status).toBe(200);
    expect((await delivered(hook, kind)).map((c) => (c.body as { type: string }).type)).toEqual([
      "alert.raised",
      "alert.acknowledged",
    ]);
  });

  it("names webhooks by format, host and hash — never by their URL — and refuses a malformed list naming only the entry", () => {
    const config = loadConfig({
      ...(env as Bindings),
      ALERT_WEBHOOK_URL: `https://hooks.slack.com/services/T0/B0/secret-token pagerduty:${PD_KEY}`,
    });
    expect(config.alertWebhooks.map((t) => t.format)).toEqual(["slack", "pagerduty"]);
    expect(config.alertWebhooks.map((t) => t.id)).toEqual([
      expect.stringMatching(/^slack:hooks\.slack\.com:[0-9a-f]{8}$/),
      expect.stringMatching(/^pagerduty:events\.pagerduty\.com:[0-9a-f]{8}$/),
    ]);
    expect(() =>
      loadConfig({ ...(env as Bindings), ALERT_WEBHOOK_URL: "https://ok.example/x, http://plain.example/secret-path" }),
    ).toThrowError(/^Invalid configuration: ALERT_WEBHOOK_URL entry 2: must be an https URL[^/]*$/);
  });

  it("keeps the outbox's deliveries unique per event and webhook", async () => {
    const hook = webhook("unique");
    const kind = hook.kind("unique");
    const vars = { ALERT_WEBHOOK_URL: hook.url };
    await raise(vars, alert(kind, 1));
    await fireCron("* * * * *", vars);
    await fireCron("* * * * *", vars);
    expect(await delivered(hook, kind)).toHaveLength(1);
    const rows = await withDb((db) =>
      db
        .select()
        .from(alertDeliveries)
        .where(inArray(alertDeliveries.kind, [kind])),
    );
    expect(rows).toHaveLength(1);
  });
});
