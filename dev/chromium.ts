import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Makes sure Debian's Chromium is installed for the browser tests (playwright-core never downloads a browser).
 * As root it installs the `chromium` package with apt; otherwise it says what to run.
 */
export function ensureChromium(path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"): string {
  if (existsSync(path)) return path;
  if (process.getuid?.() !== 0 || process.env.CHROMIUM_PATH) {
    throw new Error(
      `No Chromium at ${path}: run "apt-get update && apt-get install -y chromium" (or set CHROMIUM_PATH)`,
    );
  }
  console.log("installing Debian's chromium for the browser tests (apt-get)…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
  return path;
}
