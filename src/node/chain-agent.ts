// A node's hand on the chain: a TonClient and the wallet that pays for the node's on-chain actions (deploying its
// contracts, staking, topping up, submitting signed charges and payouts). Wallet transactions go out one at a time
// (a wallet's seqno orders them), each awaited until the chain applied it.

import type { Address, Contract, OpenedContract, Sender } from '@ton/core';
import type { TonClient } from '@ton/ton';
import { type OperatorWallet, sendFromWallet, withRetry } from '../chain/client.ts';

export class ChainAgent {
  private queue: Promise<unknown> = Promise.resolve();
  sent = 0;

  constructor(
    readonly client: TonClient,
    readonly wallet: OperatorWallet,
    private readonly log?: (line: string) => void,
  ) {}

  /** The wallet's address: where excesses and refunds come back. */
  get address(): Address {
    return this.wallet.contract.address;
  }

  open<T extends Contract>(c: T): OpenedContract<T> {
    return this.client.open(c);
  }

  isDeployed(a: Address): Promise<boolean> {
    return withRetry(() => this.client.isContractDeployed(a));
  }

  balance(a: Address = this.address): Promise<bigint> {
    return withRetry(() => this.client.getBalance(a));
  }

  /** Sends one wallet transaction (after those already queued) and resolves once the chain applied it. */
  send(what: string, fn: (sender: Sender) => Promise<unknown>): Promise<void> {
    const run = this.queue.then(async () => {
      this.log?.(`chain: ${what}`);
      await sendFromWallet(this.client, this.wallet, fn);
      this.sent++;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
