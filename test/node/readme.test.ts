import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES } from "../../src/config.ts";
import { ERROR_STATUS } from "../../src/lib/errors.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("lists every API error code with its HTTP status", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });

  it("documents every configuration variable", () => {
    for (const name of CONFIG_VARIABLES) expect(readme, name).toContain(`\`${name}\``);
  });

  it("gives the two-command quick start", () => {
    expect(readme).toContain("npm install && npm run dev");
    expect(readme).toContain("npm install && npm test");
  });
});
