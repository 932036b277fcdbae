import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { ERROR_STATUS } from "../../src/lib/errors.ts";
import { call } from "./helpers.ts";

describe("OpenAPI", () => {
  it("documents every route the Worker serves, generated from the same schemas", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body as unknown as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(served.filter((route) => !documented.includes(route))).toEqual([]);
    const deposit = doc.paths["/vault/deposit"]?.post?.requestBody as {
      content: Record<string, { schema: { required: string[]; additionalProperties: boolean } }>;
    };
    expect(deposit.content["application/json"]!.schema).toMatchObject({
      required: ["userPubkey", "amount"],
      additionalProperties: false,
    });
  });

  it("lists every error code of the API", async () => {
    const res = await call("/openapi.json");
    const text = JSON.stringify(res.body);
    for (const code of Object.keys(ERROR_STATUS)) expect(text, code).toContain(`"${code}"`);
  });

  it("serves a docs page that needs no CDN", async () => {
    const { exports } = await import("cloudflare:workers");
    const page = await (exports as unknown as { default: Fetcher }).default.fetch("http://vault.test/docs");
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/);
  });
});
