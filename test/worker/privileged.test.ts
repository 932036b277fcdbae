import { Keypair, PublicKey } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import { decodeCollateralVault, findVaultAddress } from "../../src/chain/program/index.ts";
import { fundedWallet, rpc } from "./chain.ts";
import { buildSignRelay, buildSignSend } from "./flow.ts";
import { postJson } from "./helpers.ts";

const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };
const ADMIN = { "x-api-key": "admin-key-0123456789abcdef" };

async function lockedOnChain(owner: PublicKey): Promise<bigint> {
  const [vault] = findVaultAddress(new PublicKey(inject("programId")), owner);
  const info = await rpc<{ value: { data: [string, string] } }>("getAccountInfo", [
    vault.toBase58(),
    { encoding: "base64", commitment: "confirmed" },
  ]);
  return decodeCollateralVault(Uint8Array.from(atob(info.value.data[0]), (c) => c.charCodeAt(0))).lockedBalance;
}

describe("privileged builders", () => {
  it("answer 401 without a key or with a wrong one, and 403 for a key without the scope", async () => {
    const body = {
      authorityPubkey: Keypair.generate().publicKey.toBase58(),
      userPubkey: Keypair.generate().publicKey.toBase58(),
      amount: 1,
    };
    const none = await postJson("/vault/lock", body);
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe("UNAUTHORIZED");
    const wrong = await postJson("/vault/lock", body, { "x-api-key": "service-key-0123456789abcdeX" });
    expect(wrong.status).toBe(401);
    const scoped = await postJson("/admin/pause", { adminPubkey: body.authorityPubkey, paused: true }, SERVICE);
    expect(scoped.status).toBe(403);
    expect(scoped.body.error?.code).toBe("FORBIDDEN");
    expect(JSON.stringify(scoped.body)).not.toContain("service-key");
  });

  it("refuse a lock for an authority missing from the on-chain list, then build it once the admin adds it", async () => {
    const user = await fundedWallet({ usdt: 20_000_000n });
    const userPubkey = user.publicKey.toBase58();
    await buildSignRelay("/vault/initialize", { userPubkey }, [user]);
    await buildSignRelay("/vault/deposit", { userPubkey, amount: 20_000_000 }, [user]);
    const engine = await fundedWallet();
    const lock = { authorityPubkey: engine.publicKey.toBase58(), userPubkey, amount: 5_000_000 };

    const refused = await postJson("/vault/lock", lock, SERVICE);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe("AUTHORITY_NOT_AUTHORIZED");

    const admin = Keypair.fromSecretKey(Uint8Array.from(inject("localnetAdminSecret")));
    const notAdmin = await postJson(
      "/admin/authority/programs/add",
      { adminPubkey: engine.publicKey.toBase58(), programId: engine.publicKey.toBase58() },
      ADMIN,
    );
    expect(notAdmin.status).toBe(403);
    // The relay sends no admin instruction: the operator sends it and reports the signature.
    await buildSignSend(
      "/admin/authority/programs/add",
      { adminPubkey: admin.publicKey.toBase58(), programId: engine.publicKey.toBase58() },
      [admin],
      ADMIN,
    );

    await buildSignRelay("/vault/lock", lock, [engine], SERVICE);
    expect(await lockedOnChain(user.publicKey)).toBe(5_000_000n);
    const tooMuch = await postJson("/vault/unlock", { ...lock, amount: 5_000_001 }, SERVICE);
    expect(tooMuch.body.error?.code).toBe("INSUFFICIENT_LOCKED_BALANCE");
    await buildSignRelay("/vault/unlock", lock, [engine], SERVICE);
    expect(await lockedOnChain(user.publicKey)).toBe(0n);
  });

  it("refuse a self-transfer, which would inflate the vault (program bug §8.2)", async () => {
    const owner = Keypair.generate().publicKey.toBase58();
    const res = await postJson(
      "/vault/transfer",
      { authorityPubkey: owner, fromOwner: owner, toOwner: owner, amount: 1, reason: "settlement" },
      SERVICE,
    );
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain("§8.2");
  });
});
