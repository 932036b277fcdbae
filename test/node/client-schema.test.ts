import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { generatedSchema, SCHEMA_FILE } from "../../dev/client-generate.ts";

describe("the typed client", () => {
  it("its committed types are what the OpenAPI document generates now (npm run client:generate)", async () => {
    const committed = await readFile(SCHEMA_FILE, "utf8");
    const generated = await generatedSchema();
    expect(committed === generated, "src/client/schema.d.ts is stale: run npm run client:generate").toBe(true);
    // The documented response data reach the client's types (not the untyped `data: {}`).
    expect(generated).toMatch(/totalBalance: number/);
    expect(generated).toMatch(/WsEvent_balance_update/);
  }, 120_000);
});
