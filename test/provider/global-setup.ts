/**
 * Runs in Node before the `provider` test project: a fresh database, the Neon proxy, and one localnet with three
 * fronts — an ideal one the tests drive the chain through, the provider front the Worker uses (see profile.ts) and
 * an ideal archival front (SOLANA_ARCHIVE_RPC_URL). Its own database: the files of this project count what the
 * whole chain holds.
 */
import type { TestProject } from "vitest/node";
import "../provided-context.ts";
import { startLocalnet } from "../../dev/localnet/index.ts";
import { PROFILES } from "../../dev/localnet/profile.ts";
import { applyMigrations } from "../../dev/migrate.ts";
import { writeOperationsIndex } from "../../dev/operations-index.ts";
import { testDatabase } from "../../dev/stack.ts";
import { startWsProxy } from "../../dev/ws-proxy.ts";
import { TEST_PROVIDER_PROFILE } from "./profile.ts";

export default async function setup(project: TestProject) {
  // The Worker under test is bundled from src/: its operation list first (dev/operations-index.ts).
  await writeOperationsIndex();
  const database = await testDatabase();
  await applyMigrations(database.url);
  const proxy = await startWsProxy();
  const localnet = await startLocalnet({ port: 0, slotMs: 100, finalityDepth: 4, quiet: true });
  const provider = await localnet.addFront(TEST_PROVIDER_PROFILE);
  const archive = await localnet.addFront(PROFILES.ideal);
  project.provide("databaseUrl", database.url);
  project.provide("neonWsProxy", proxy.address);
  project.provide("rpcUrl", localnet.rpcUrl);
  project.provide("rpcWsUrl", localnet.wsUrl);
  project.provide("providerRpcUrl", provider.rpcUrl);
  project.provide("archiveRpcUrl", archive.rpcUrl);
  project.provide("programId", localnet.programId.toBase58());
  project.provide("usdtMint", localnet.usdtMint.toBase58());
  project.provide("localnetAdminSecret", Array.from(localnet.admin.secretKey));
  project.provide("mintAuthoritySecret", Array.from(localnet.mintAuthority.secretKey));
  return async () => {
    await localnet.close();
    await proxy.close();
    await database.stop();
  };
}
