/**
 * `npm run localnet`: starts the localnet on LOCALNET_PORT (default 8899) until SIGINT/SIGTERM, behaving as
 * LOCALNET_PROFILE (`ideal` or `provider`) and the LOCALNET_* knobs say (see profile.ts and the README).
 */
import { startLocalnet } from "./index.ts";
import { describeProfile, profileFromEnv } from "./profile.ts";

const port = Number(process.env.LOCALNET_PORT ?? 8899);
const profile = profileFromEnv(process.env);
const net = await startLocalnet({ port, quiet: true, profile });
console.log(`localnet RPC        ${net.rpcUrl}`);
console.log(`profile             ${describeProfile(profile)}`);
console.log(`localnet PubSub     ${net.wsUrl}`);
console.log(`vault program id    ${net.programId.toBase58()}`);
console.log(`USDT mint           ${net.usdtMint.toBase58()} (6 decimals)`);
console.log(`mint authority      ${net.mintAuthority.publicKey.toBase58()}`);
console.log(`vault admin         ${net.admin.publicKey.toBase58()}`);
console.log(`faucet              POST ${net.rpcUrl}/localnet/fund { address, lamports?, usdt? }`);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`localnet: ${signal}, shutting down`);
  await net.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
