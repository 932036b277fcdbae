import { createCloseAccountInstruction } from "@solana/spl-token";
import { PublicKey } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import { associatedTokenAddress } from "../../src/chain/program/index.ts";
import { confirmed, fundedWallet, rpc, sendSigned } from "./chain.ts";
import { build, buildSignRelay } from "./flow.ts";

describe("withdraw to a wallet without a USDT account", () => {
  it("adds an idempotent create of the user's token account and the tokens arrive", async () => {
    const wallet = await fundedWallet({ usdt: 30_000_000n });
    const userPubkey = wallet.publicKey.toBase58();
    await buildSignRelay("/vault/initialize", { userPubkey }, [wallet]);
    await buildSignRelay("/vault/deposit", { userPubkey, amount: 30_000_000 }, [wallet]);

    // The wallet closes its now-empty USDT account, straight on chain.
    const ata = associatedTokenAddress(wallet.publicKey, new PublicKey(inject("usdtMint")));
    await confirmed(
      await sendSigned([createCloseAccountInstruction(ata, wallet.publicKey, wallet.publicKey)], [wallet]),
    );
    const gone = await rpc<{ value: unknown }>("getAccountInfo", [ata.toBase58(), { commitment: "confirmed" }]);
    expect(gone.value).toBeNull();

    const preview = await build("/vault/withdraw", { userPubkey, amount: 12_000_000 });
    expect(preview.instructions).toEqual(["create_associated_token_account_idempotent", "withdraw"]);
    await buildSignRelay("/vault/withdraw", { userPubkey, amount: 12_000_000 }, [wallet]);
    const balance = await rpc<{ value: { amount: string } }>("getTokenAccountBalance", [
      ata.toBase58(),
      { commitment: "confirmed" },
    ]);
    expect(balance.value.amount).toBe("12000000");
  });
});
