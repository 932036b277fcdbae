import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { alerts } from "../../src/db/schema.ts";
import { lowBalanceJob } from "../../src/jobs/low-balance.ts";
import { call, postJson } from "./helpers.ts";
import {
  cachedAt,
  createVault,
  depositMore,
  runJobsNow,
  type TestVault,
  withDb,
  withdrawFrom,
} from "./jobs-support.ts";

const ADMIN = { "x-api-key": "admin-key-0123456789abcdef" };
const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };

async function lowAlerts(owner: string) {
  return withDb((db) =>
    db
      .select()
      .from(alerts)
      .where(and(eq(alerts.owner, owner), eq(alerts.kind, "low_balance")))
      .orderBy(alerts.id),
  );
}

/** Runs the low-balance job once the cache (which it reads) holds the vault as of `slot`. */
async function checkLowBalances(v: TestVault, slot = v.slot) {
  await cachedAt(v.owner, slot);
  await runJobsNow([lowBalanceJob], "test-low-balance");
}

describe("low-balance alerts", () => {
  it("fire once per condition: not again while low, resolved on recovery, again on the next drop", async () => {
    const v = await createVault(50_000_000n); // 50 USDT, below the default threshold of 100 USDT
    await checkLowBalances(v);
    await checkLowBalances(v);
    let rows = await lowAlerts(v.owner);
    expect(rows.map((r) => r.status)).toEqual(["open"]);
    expect(rows[0]).toMatchObject({ severity: "warning", dedupKey: `low_balance:${v.owner}` });

    await checkLowBalances(v, await depositMore(v, 60_000_000n)); // 110 USDT
    rows = await lowAlerts(v.owner);
    expect(rows.map((r) => r.status)).toEqual(["resolved"]);

    const dropped = await withdrawFrom(v, 30_000_000n); // 80 USDT
    await checkLowBalances(v, dropped);
    await checkLowBalances(v, dropped);
    rows = await lowAlerts(v.owner);
    expect(rows.map((r) => r.status)).toEqual(["resolved", "open"]);
  });

  it("never alert for a vault that was never funded", async () => {
    const v = await createVault(0n);
    await checkLowBalances(v);
    expect(await lowAlerts(v.owner)).toEqual([]);
  });
});

describe("alerts API", () => {
  it("lists and acknowledges alerts for the admin key only; an acknowledged alert still deduplicates", async () => {
    const v = await createVault(20_000_000n);
    await checkLowBalances(v);
    expect((await call(`/monitor/alerts?owner=${v.owner}`)).status).toBe(401);
    expect((await call(`/monitor/alerts?owner=${v.owner}`, { headers: SERVICE })).status).toBe(403);

    const listed = await call(`/monitor/alerts?owner=${v.owner}&kind=low_balance`, { headers: ADMIN });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toMatchObject({ total: 1 });
    const [alert] = listed.body.data!.alerts as { id: number; status: string }[];
    expect(alert).toMatchObject({ status: "open", kind: "low_balance", owner: v.owner });

    const ack = await postJson(`/monitor/alerts/${alert!.id}/ack`, {}, ADMIN);
    expect(ack.status).toBe(200);
    expect(ack.body.data).toMatchObject({ id: alert!.id, status: "acknowledged" });
    expect((await postJson(`/monitor/alerts/${alert!.id}/ack`, {}, ADMIN)).body.data).toMatchObject({
      status: "acknowledged",
    });
    await checkLowBalances(v);
    expect((await lowAlerts(v.owner)).map((r) => r.status)).toEqual(["acknowledged"]);

    await checkLowBalances(v, await depositMore(v, 100_000_000n));
    const resolved = await postJson(`/monitor/alerts/${alert!.id}/ack`, {}, ADMIN);
    expect([resolved.status, resolved.body.error?.code]).toEqual([409, "ALERT_ALREADY_RESOLVED"]);
    const missing = await postJson("/monitor/alerts/999999999999/ack", {}, ADMIN);
    expect([missing.status, missing.body.error?.code]).toEqual([404, "ALERT_NOT_FOUND"]);
    const bad = await postJson("/monitor/alerts/abc/ack", {}, ADMIN);
    expect([bad.status, bad.body.error?.code]).toEqual([400, "INVALID_ALERT_ID"]);
    const badQuery = await call("/monitor/alerts?status=closed", { headers: ADMIN });
    expect([badQuery.status, badQuery.body.error?.code]).toEqual([400, "VALIDATION_FAILED"]);
  });
});
