import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { operationsIndexText } from "../../dev/operations-index.ts";

const FOLDER = join(import.meta.dirname, "../../src/api/operations");

describe("the operation list", () => {
  it("is generated from the modules in src/api/operations (npm run operations:index) and lists each once", async () => {
    const committed = await readFile(join(FOLDER, "index.ts"), "utf8");
    expect(committed === (await operationsIndexText()), "index.ts is stale: run npm run operations:index").toBe(true);
    const modules = (await readdir(FOLDER)).filter((f) => f.endsWith(".ts") && f !== "index.ts");
    expect(modules.length).toBeGreaterThan(25);
    for (const file of modules) expect(committed.split(`"./${file}"`).length - 1, file).toBe(1);
  });
});
