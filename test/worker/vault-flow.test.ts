import { PublicKey } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import { decodeCollateralVault, findVaultAddress } from "../../src/chain/program/index.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet, rpc, signBase64 } from "./chain.ts";
import { call, postJson } from "./helpers.ts";

const programId = () => new PublicKey(inject("programId"));

async function vaultOnChain(owner: PublicKey) {
  const [vault] = findVaultAddress(programId(), owner);
  const info = await rpc<{ value: { data: [string, string] } | null }>("getAccountInfo", [
    vault.toBase58(),
    { encoding: "base64", commitment: "confirmed" },
  ]);
  if (!info.value) return null;
  return decodeCollateralVault(Uint8Array.from(atob(info.value.data[0]), (c) => c.charCodeAt(0)));
}

async function tokenBalance(address: string): Promise<bigint> {
  const r = await rpc<{ value: { amount: string } }>("getTokenAccountBalance", [address, { commitment: "confirmed" }]);
  return BigInt(r.value.amount);
}

async function waitForStatus(id: string, status: string) {
  return eventually(async () => {
    const { body } = await call(`/transactions/${id}`);
    return body.data?.status === status ? body.data : undefined;
  }, 30_000);
}

describe("initialize, deposit and withdraw through the API", () => {
  it("builds, relays and finalizes each step, and the chain's balances move exactly", async () => {
    const wallet = await fundedWallet({ usdt: 250_000_000n });
    const userPubkey = wallet.publicKey.toBase58();

    const init = await postJson("/vault/initialize", { userPubkey });
    expect(init.status).toBe(200);
    expect(init.body.data).toMatchObject({
      status: "pending",
      message: "Sign and submit this transaction",
      type: "initialize",
    });
    const initData = init.body.data as Record<string, string>;
    const submitted = await postJson("/vault/submit", {
      signedTransaction: signBase64(initData.unsignedTransaction!, wallet),
      transactionId: initData.transactionId,
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.data).toMatchObject({ transactionId: initData.transactionId, status: "submitted" });
    await waitForStatus(initData.transactionId!, "finalized");
    expect(await vaultOnChain(wallet.publicKey)).toMatchObject({ totalBalance: 0n });

    const deposit = await postJson("/vault/deposit", { userPubkey, amount: 100_000_000 });
    expect(deposit.status).toBe(200);
    const depositData = deposit.body.data as Record<string, string>;
    await postJson("/vault/submit", { signedTransaction: signBase64(depositData.unsignedTransaction!, wallet) });
    await waitForStatus(depositData.transactionId!, "finalized");
    const afterDeposit = await vaultOnChain(wallet.publicKey);
    expect(afterDeposit).toMatchObject({
      totalBalance: 100_000_000n,
      availableBalance: 100_000_000n,
      totalDeposited: 100_000_000n,
    });
    expect(await tokenBalance(afterDeposit!.tokenAccount.toBase58())).toBe(100_000_000n);

    const withdraw = await postJson("/vault/withdraw", { userPubkey, amount: "40000000" });
    expect(withdraw.status).toBe(200);
    const withdrawData = withdraw.body.data as Record<string, string>;
    await postJson("/vault/submit", { signedTransaction: signBase64(withdrawData.unsignedTransaction!, wallet) });
    await waitForStatus(withdrawData.transactionId!, "finalized");
    const afterWithdraw = await vaultOnChain(wallet.publicKey);
    expect(afterWithdraw).toMatchObject({
      totalBalance: 60_000_000n,
      availableBalance: 60_000_000n,
      totalWithdrawn: 40_000_000n,
    });
    expect(await tokenBalance(afterWithdraw!.tokenAccount.toBase58())).toBe(60_000_000n);
  });
});
