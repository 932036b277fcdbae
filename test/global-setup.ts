/**
 * Runs in Node before the workerd test project: a real PostgreSQL (DATABASE_URL's server or an embedded one) with a
 * fresh database and migrations, the Neon WebSocket proxy, and the localnet. Their addresses reach the Worker as
 * bindings through `inject` (see vitest.config.ts). The localnets behave as LOCALNET_PROFILE says (default `ideal`;
 * vitest.config.ts gives the Worker the matching budget); the `provider` project has a setup of its own.
 */
import type { TestProject } from "vitest/node";
import "./provided-context.ts";
import { startLocalnet } from "../dev/localnet/index.ts";
import { profileFromEnv } from "../dev/localnet/profile.ts";
import { applyMigrations } from "../dev/migrate.ts";
import { writeOperationsIndex } from "../dev/operations-index.ts";
import { testDatabase } from "../dev/stack.ts";
import { startWebhookReceiver } from "../dev/webhook-receiver.ts";
import { startWsProxy } from "../dev/ws-proxy.ts";

export default async function setup(project: TestProject) {
  // The Worker under test is bundled from src/: its operation list first (dev/operations-index.ts).
  await writeOperationsIndex();
  const database = await testDatabase();
  await applyMigrations(database.url);
  const proxy = await startWsProxy();
  // The same proxy without the WebSocket tunnel: proves which routes never open a pool.
  const sqlOnly = await startWsProxy({ tunnel: false });
  const profile = profileFromEnv(process.env);
  const localnet = await startLocalnet({ port: 0, slotMs: 100, finalityDepth: 4, quiet: true, profile });
  // A second chain for tests that change global program state (pause) and would disturb every other file.
  const isolated = await startLocalnet({ port: 0, slotMs: 100, finalityDepth: 4, quiet: true, profile });
  // Where the alert-delivery tests point ALERT_WEBHOOK_URL (each test on its own path).
  const receiver = await startWebhookReceiver();
  project.provide("databaseUrl", database.url);
  project.provide("neonWsProxy", proxy.address);
  project.provide("neonSqlOnlyProxy", sqlOnly.address);
  project.provide("rpcUrl", localnet.rpcUrl);
  project.provide("rpcWsUrl", localnet.wsUrl);
  project.provide("programId", localnet.programId.toBase58());
  project.provide("usdtMint", localnet.usdtMint.toBase58());
  project.provide("localnetAdminSecret", Array.from(localnet.admin.secretKey));
  project.provide("mintAuthoritySecret", Array.from(localnet.mintAuthority.secretKey));
  project.provide("isolatedRpcUrl", isolated.rpcUrl);
  project.provide("isolatedAdminSecret", Array.from(isolated.admin.secretKey));
  project.provide("webhookReceiverUrl", receiver.url);
  return async () => {
    await receiver.close();
    await localnet.close();
    await isolated.close();
    await proxy.close();
    await sqlOnly.close();
    await database.stop();
  };
}
