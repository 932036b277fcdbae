import { NeonDbError, type NeonQueryFunction, neon, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseLease, testDatabase } from "../../dev/stack.ts";
import { startWsProxy, type WsProxy } from "../../dev/ws-proxy.ts";

// The driver as the Worker uses it: `neon()` over HTTP, pointed at the local proxy's /sql endpoint.
let database: DatabaseLease;
let proxy: WsProxy;
let sql: NeonQueryFunction<false, false>;

const U64_MAX = "18446744073709551615";

beforeAll(async () => {
  database = await testDatabase();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query(
    "create table probe (id int primary key, amount numeric(20, 0), note text, tags text[], meta jsonb, at timestamptz)",
  );
  await client.end();
  proxy = await startWsProxy();
  neonConfig.fetchEndpoint = `http://${proxy.address}/sql`;
  sql = neon(database.url);
});

afterAll(async () => {
  await proxy?.close();
  await database?.stop();
});

/** The error a query raised (fails the test when it succeeded). */
async function failure(work: Promise<unknown>): Promise<NeonDbError> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NeonDbError);
  return err as NeonDbError;
}

describe("the local /sql endpoint, driven by neon()", () => {
  it("returns values that the driver parses by type: numbers, exact numerics, text, booleans, nulls, json, dates", async () => {
    const [row] = await sql.query(
      `select 42::int4 as i, 9007199254740993::int8 as big, $1::numeric(20, 0) as u64, 'a"b'::text as t,
              true as b, null::text as nothing, '{"x": 1}'::jsonb as j, '2026-11-24T10:00:00Z'::timestamptz as at`,
      [U64_MAX],
    );
    expect(row).toEqual({
      i: 42,
      big: "9007199254740993",
      u64: U64_MAX,
      t: 'a"b',
      b: true,
      nothing: null,
      j: { x: 1 },
      at: new Date("2026-11-24T10:00:00Z"),
    });
  });

  it("round-trips arrays (with nulls and quotes) and bytea parameters", async () => {
    const [row] = await sql.query("select $1::text[] as tags, $2::int[] as ints, $3::bytea as raw", [
      ["a,b", null, 'q"uote'],
      [1, 2, 3],
      Buffer.from([0, 255, 16]),
    ]);
    expect(row?.tags).toEqual(["a,b", null, 'q"uote']);
    expect(row?.ints).toEqual([1, 2, 3]);
    expect(Buffer.from(row?.raw as Uint8Array)).toEqual(Buffer.from([0, 255, 16]));
  });

  it("answers full results with fields, command and rowCount, and rows as arrays in array mode", async () => {
    await sql.query("insert into probe (id, amount, note) values (1, $1, 'max'), (2, 0, null)", [U64_MAX]);
    const result = await sql.query("select id, amount, note from probe order by id", [], {
      arrayMode: true,
      fullResults: true,
    });
    expect(result.command).toBe("SELECT");
    expect(result.rowCount).toBe(2);
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ["id", 23],
      ["amount", 1700],
      ["note", 25],
    ]);
    expect(result.rows).toEqual([
      [1, U64_MAX, "max"],
      [2, "0", null],
    ]);
    const update = await sql.query("update probe set note = 'x' where id > 0", [], { fullResults: true });
    expect(update.command).toBe("UPDATE");
    expect(update.rowCount).toBe(2);
  });

  it("raises NeonDbError with the Postgres SQLSTATE and its details", async () => {
    const duplicate = await failure(sql.query("insert into probe (id) values (1)"));
    expect(duplicate.code).toBe("23505");
    expect(duplicate.constraint).toBe("probe_pkey");
    expect(duplicate.table).toBe("probe");
    expect(duplicate.severity).toBe("ERROR");
    const syntax = await failure(sql.query("selec 1"));
    expect(syntax.code).toBe("42601");
    expect(syntax.position).toBe("1");
    const missing = await failure(sql.query("select * from no_such_table"));
    expect(missing.code).toBe("42P01");
    expect(missing.message).toContain("no_such_table");
  });

  it("runs one statement per query, like Neon's endpoint (no ;-separated scripts)", async () => {
    const err = await failure(sql.query("select 1; select 2"));
    expect(err.code).toBe("42601");
  });

  it("runs a batch in one transaction and returns each statement's result", async () => {
    const [inserted, counted] = await sql.transaction([
      sql.query("insert into probe (id, amount, tags, meta) values (10, 7, $1, $2) returning id", [
        ["x", "y"],
        JSON.stringify({ k: [1, 2] }),
      ]),
      sql.query("select count(*)::int as n from probe"),
    ]);
    expect(inserted).toEqual([{ id: 10 }]);
    expect(counted).toEqual([{ n: 3 }]);
    const [row] = await sql.query("select tags, meta from probe where id = 10");
    expect(row).toEqual({ tags: ["x", "y"], meta: { k: [1, 2] } });
  });

  it("rolls the whole batch back when one statement fails", async () => {
    const err = await failure(
      sql.transaction([
        sql.query("insert into probe (id, note) values (20, 'rolled back')"),
        sql.query("insert into probe (id) values (1)"),
      ]),
    );
    expect(err.code).toBe("23505");
    expect(await sql.query("select id from probe where id = 20")).toEqual([]);
  });

  it("applies the batch's isolation level and read-only mode", async () => {
    const results = await sql.transaction(
      [sql.query("show transaction_isolation"), sql.query("show transaction_read_only")],
      { isolationLevel: "Serializable", readOnly: true },
    );
    expect(results).toEqual([[{ transaction_isolation: "serializable" }], [{ transaction_read_only: "on" }]]);
    const err = await failure(sql.transaction([sql.query("insert into probe (id) values (30)")], { readOnly: true }));
    expect(err.code).toBe("25006");
  });

  it("refuses a database host that is not loopback", async () => {
    const remote = neon(database.url.replace("127.0.0.1", "10.1.2.3").replace("localhost", "10.1.2.3"));
    const err = await failure(remote.query("select 1"));
    expect(err.message).toContain("only loopback database hosts are allowed");
  });

  it("reports a missing database with its SQLSTATE", async () => {
    const url = new URL(database.url);
    url.pathname = "/no_such_database_here";
    const err = await failure(neon(url.toString()).query("select 1"));
    expect(err.code).toBe("3D000");
  });

  it("still serves the WebSocket tunnel on the same port (other requests are refused)", async () => {
    const res = await fetch(`http://${proxy.address}/`);
    expect(res.status).toBe(426);
    await res.text();
  });
});
