// The proxy's side of the chain (cocoon-reference.md §4.4, §9): it deploys and stakes its contract, reads each
// client's contract (balance, stake, tokens charged so far, secret hash, state) to decide what the client may
// spend, and submits its signed cumulative charges on-chain once enough is unsettled.

import { Address, Cell, toNano } from '@ton/core';
import { ClientContract } from '../../chain/client-contract.ts';
import { ProxyContract } from '../../chain/proxy.ts';
import type { ChainAgent } from '../chain-agent.ts';
import type { RootConfig } from '../root-config.ts';
import type { Account, ProxyAccounts } from './accounts.ts';

/** A client contract as last read from the chain. */
export interface ClientOnChain {
  balance: bigint;
  stake: bigint;
  /** Tokens charged on-chain so far. */
  tokensUsed: bigint;
  /** SHA-256 of the client's short-auth secret (zero: none set). */
  secretHash: bigint;
  state: number;
  readAt: number;
}

export interface SettlementOptions {
  agent: ChainAgent;
  accounts: ProxyAccounts;
  root: () => RootConfig;
  /** Submit a client's charge once its unsettled usage is worth this much (default 1 TON, as the reference). */
  chargeThreshold?: bigint;
  log?: (line: string) => void;
}

export class ProxySettlement {
  readonly clients = new Map<string, ClientOnChain>();
  private readonly charging = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  charges = 0;
  lastError: unknown;

  constructor(private readonly o: SettlementOptions) {}

  /** Deploys the proxy contract and stakes it (the root's minimum) unless it already exists. */
  async ensureContract(owner: string, publicKey: Uint8Array): Promise<string> {
    const root = this.o.root();
    const code = root.params.proxyScCode;
    if (!code || !root.rootAddress)
      throw new Error('the root config has no proxy contract code or root address');
    const c = this.o.agent.open(
      ProxyContract.createFromConfig(
        {
          owner: Address.parse(owner),
          proxyPublicKey: Buffer.from(publicKey),
          root: Address.parse(root.rootAddress),
          params: root.params,
        },
        code,
      ),
    );
    if (!(await this.o.agent.isDeployed(c.address))) {
      await this.o.agent.send('deploying the proxy contract', (s) => c.sendDeploy(s));
      await this.o.agent.send(`staking the proxy contract (${root.params.minProxyStake} nanoTON)`, (s) =>
        c.sendIncreaseStake(s, root.params.minProxyStake, this.o.agent.address),
      );
    }
    return c.address.toString();
  }

  /** Reads a client contract; undefined when it is not deployed. */
  async refresh(sc: string): Promise<ClientOnChain | undefined> {
    const addr = Address.parse(sc);
    if (!(await this.o.agent.isDeployed(addr))) {
      this.clients.delete(sc);
      return undefined;
    }
    const d = await this.o.agent.open(ClientContract.createFromAddress(addr)).getClientData();
    const st: ClientOnChain = {
      balance: d.balance,
      stake: d.stake,
      tokensUsed: d.tokensUsed,
      secretHash: d.secretHash,
      state: d.state,
      readAt: Date.now(),
    };
    this.clients.set(sc, st);
    return st;
  }

  start(everyMs = 2000): void {
    this.timer ??= setInterval(() => void this.tick(), everyMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Refreshes every known client contract and charges those with enough unsettled. */
  async tick(): Promise<void> {
    for (const a of this.o.accounts.all('client')) {
      if (!a.scAddress) continue;
      try {
        const st = await this.refresh(a.scAddress);
        if (st) await this.maybeCharge(a, st);
      } catch (err) {
        this.lastError = err;
        this.o.log?.(`settlement: ${a.scAddress}: ${(err as Error).message}`);
      }
    }
  }

  /** Submits the client's newest signed charge when its unsettled part is worth the threshold (or `force`). */
  async maybeCharge(a: Account, st: ClientOnChain, force = false): Promise<boolean> {
    const price = this.o.root().params.pricePerToken;
    const unsettled = a.committed - st.tokensUsed;
    if (unsettled <= 0n || this.charging.has(a.scAddress)) return false;
    if (!force && unsettled * price < (this.o.chargeThreshold ?? toNano('1'))) return false;
    const payment = this.o.accounts.payment(a);
    if (payment._ !== 'proxy.signedPayment') return false;
    this.charging.add(a.scAddress);
    try {
      const body = Cell.fromBoc(Buffer.from(payment.data))[0] as Cell;
      const c = this.o.agent.open(ClientContract.createFromAddress(Address.parse(a.scAddress)));
      await this.o.agent.send(`charging ${a.scAddress} for ${unsettled} tokens`, (s) =>
        c.sendSigned(s, body, toNano('0.2')),
      );
      this.charges++;
      await this.refresh(a.scAddress);
      return true;
    } finally {
      this.charging.delete(a.scAddress);
    }
  }
}
