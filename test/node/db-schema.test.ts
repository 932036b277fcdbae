import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../dev/migrate.ts";
import { type DatabaseLease, testDatabase } from "../../dev/stack.ts";

let database: DatabaseLease;
let client: pg.Client;

const OWNER = "7xKt9Fj2abc1237xKt9Fj2abc1237xKt9Fj2abc1237x";

beforeAll(async () => {
  database = await testDatabase();
  await applyMigrations(database.url);
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await database?.stop();
});

/** Inserts a vault row with the given balances (as exact decimal strings). */
function insertVault(owner: string, total: string, locked: string, available: string) {
  return client.query(
    "insert into vaults (owner, vault_address, token_account, total_balance, locked_balance, available_balance) values ($1, $2, $3, $4, $5, $6)",
    [owner, `vault-${owner}`, `ata-${owner}`, total, locked, available],
  );
}

describe("migrations", () => {
  it("create every table of the design document, alerts, and the ingestion/gap/job/idempotency/subscription tables", async () => {
    const { rows } = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      "alert_deliveries",
      "alert_events",
      "alerts",
      "audit_log",
      "balance_snapshots",
      "chain_transactions",
      "cursors",
      "idempotency_keys",
      "ingest_gaps",
      "job_runs",
      "reconciliation_logs",
      "socket_subscribers",
      "transactions",
      "tvl_snapshots",
      "vaults",
    ]);
  });

  it("are a no-op when applied again", async () => {
    const before = await client.query("select count(*)::int as n from drizzle.__drizzle_migrations");
    await applyMigrations(database.url);
    await applyMigrations(database.url);
    const after = await client.query("select count(*)::int as n from drizzle.__drizzle_migrations");
    expect(after.rows[0].n).toBe(before.rows[0].n);
    expect(after.rows[0].n).toBeGreaterThan(0);
  });
});

describe("schema constraints", () => {
  it("store u64::MAX exactly", async () => {
    await insertVault("max-owner", "18446744073709551615", "0", "18446744073709551615");
    const { rows } = await client.query("select total_balance::text as t from vaults where owner = 'max-owner'");
    expect(rows[0].t).toBe("18446744073709551615");
  });

  it("reject a balance above u64::MAX", async () => {
    // locked + available still adds up, so only the range check can refuse it.
    await expect(insertVault("over-owner", "18446744073709551616", "1", "18446744073709551615")).rejects.toThrow(
      /vaults_total_range/,
    );
  });

  it("reject a negative balance", async () => {
    await expect(insertVault("neg-owner", "0", "-1", "1")).rejects.toThrow(/vaults_locked_range/);
  });

  it("reject a total that is not locked + available", async () => {
    await expect(insertVault(OWNER, "100", "30", "60")).rejects.toThrow(/vaults_total_is_locked_plus_available/);
  });

  it("reject an unknown vault status", async () => {
    await expect(
      client.query(
        "insert into vaults (owner, vault_address, token_account, status) values ('s-owner', 'v-s', 'a-s', 'frozen')",
      ),
    ).rejects.toThrow(/vaults_status_valid/);
  });

  it("reject an unknown transaction type or status", async () => {
    await expect(
      client.query("insert into transactions (vault_owner, transaction_type) values ($1, 'airdrop')", [OWNER]),
    ).rejects.toThrow(/transactions_type_valid/);
    await expect(
      client.query("insert into transactions (vault_owner, transaction_type, status) values ($1, 'deposit', 'done')", [
        OWNER,
      ]),
    ).rejects.toThrow(/transactions_status_valid/);
  });

  it("store one chain event only once (signature + event index + type)", async () => {
    const insert = () =>
      client.query(
        "insert into transactions (vault_owner, transaction_type, amount, signature, event_index, status) values ($1, 'deposit', 5, 'sig-1', 0, 'confirmed')",
        [OWNER],
      );
    await insert();
    await expect(insert()).rejects.toThrow(/transactions_event_key/);
  });

  it("let a self-transfer store its outgoing and incoming rows under one event", async () => {
    for (const type of ["transfer_out", "transfer_in"]) {
      await client.query(
        "insert into transactions (vault_owner, transaction_type, amount, signature, event_index, status) values ($1, $2, 7, 'sig-self', 0, 'confirmed')",
        [OWNER, type],
      );
    }
    const { rows } = await client.query("select count(*)::int as n from transactions where signature = 'sig-self'");
    expect(rows[0].n).toBe(2);
  });

  it("keep one unresolved alert per dedup key, and allow it again once resolved", async () => {
    const raise = () =>
      client.query(
        "insert into alerts (kind, severity, dedup_key, message) values ('low_balance', 'warning', 'low:abc', 'low')",
      );
    await raise();
    await expect(raise()).rejects.toThrow(/alerts_unresolved_dedup/);
    await client.query("update alerts set status = 'resolved', resolved_at = now() where dedup_key = 'low:abc'");
    await raise();
  });

  it("keep a reconciliation difference consistent with expected and actual", async () => {
    await expect(
      client.query(
        "insert into reconciliation_logs (owner, field, expected, actual, difference, slot) values ($1, 'total_balance', 10, 4, 5, 1)",
        [OWNER],
      ),
    ).rejects.toThrow(/reconciliation_logs_difference/);
  });
});
