import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Keypair } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `npm run smoke`'s script (under this Node 22) and collects its output. */
function smoke(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "dev/smoke.ts"), ...args], { cwd: ROOT });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

describe("npm run smoke against the local stack (wrangler dev, PostgreSQL, localnet)", () => {
  it("passes every black-box check, including a wallet's initialize, deposit and withdraw to finalized", async () => {
    const dir = await mkdtemp(join(tmpdir(), "smoke-wallet-"));
    try {
      const wallet = join(dir, "id.json");
      await writeFile(wallet, JSON.stringify(Array.from(Keypair.generate().secretKey)), { mode: 0o600 });
      const { code, output } = await smoke([
        inject("apiUrl"),
        "--wallet",
        wallet,
        "--amount",
        "2500000",
        // The browser stack's test admin key (test/browser/global-setup.ts).
        "--admin-key",
        "admin-key-0123456789abcdef",
      ]);
      expect(output).not.toContain("✗");
      expect(output).toMatch(/smoke: (\d+) passed, 0 failed/);
      expect(Number(/smoke: (\d+) passed/.exec(output)?.[1])).toBeGreaterThanOrEqual(18);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("fails, naming the check, when the deployment does not answer", async () => {
    const { code, output } = await smoke(["http://127.0.0.1:9"]);
    expect(code).toBe(1);
    expect(output).toMatch(/✗ GET \/health is healthy/);
  });
});
