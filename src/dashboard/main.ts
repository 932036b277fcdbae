/** Dashboard entry: reads the server's dashboard config, then wires the two views and the hash navigation. */
import { api, describeError } from "./api.ts";
import { initDevWallet, type LocalnetInfo } from "./dev-wallet.ts";
import { byId } from "./dom.ts";
import { initSystemView, refreshSystem } from "./system-view.ts";
import { initVaultView, refreshOwner } from "./vault-view.ts";

interface DashboardConfig {
  cluster: string;
  localnet: LocalnetInfo | null;
  programId: string;
  usdtMint: string;
  version: string;
}

const REFRESH_MS = 15_000;
let systemTimer: ReturnType<typeof setInterval> | undefined;

/** Shows the view named by the URL hash (#vault or #system), keyboard focus moving to the content. */
function route(): void {
  const system = location.hash === "#system";
  byId("vault-view").hidden = system;
  byId("system-view").hidden = !system;
  byId("tab-vault").toggleAttribute("aria-current", false);
  byId("tab-system").toggleAttribute("aria-current", false);
  byId(system ? "tab-system" : "tab-vault").setAttribute("aria-current", "page");
  clearInterval(systemTimer);
  if (system) {
    void refreshSystem();
    systemTimer = setInterval(() => void refreshSystem(), REFRESH_MS);
  } else {
    void refreshOwner();
  }
}

async function start(): Promise<void> {
  const cluster = byId("cluster");
  try {
    const config = await api<DashboardConfig>("/dashboard/config");
    cluster.textContent = `${config.cluster} · v${config.version}`;
    cluster.className = `pill ${config.localnet ? "warn" : "ok"}`;
    if (config.localnet) initDevWallet(config.localnet);
  } catch (err) {
    cluster.textContent = `server config unavailable: ${describeError(err)}`;
    cluster.className = "pill bad";
  }
  initVaultView();
  initSystemView();
  window.addEventListener("hashchange", () => {
    route();
    byId("main").focus();
  });
  route();
  document.body.dataset.ready = "true";
}

void start();
