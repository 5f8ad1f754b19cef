// The proxy's side of the chain (cocoon-reference.md §4.4, §9): it deploys and stakes its contract, reads each
// client's contract (balance, stake, tokens charged so far, secret hash, state) to decide what the client may
// spend, and submits its signed cumulative charges on-chain once enough is unsettled.

import { randomBytes } from 'node:crypto';
import { Address, Cell, toNano } from '@ton/core';
import { withRetry } from '../../chain/client.ts';
import { ClientContract } from '../../chain/client-contract.ts';
import { ProxyContract, parseSaveStateBody, saveStateBody } from '../../chain/proxy.ts';
import { ProtocolError } from '../../errors.ts';
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
    this.contract = c.address;
    return c.address.toString();
  }

  private contract: Address | undefined;
  private readonly session = randomBytes(32);
  /** The newest state commit this proxy sent on-chain. */
  committedSeqno = 0;
  private commitTimer: NodeJS.Timeout | undefined;

  /**
   * The highest seqno the proxy contract's history shows committed (its own save_state messages, §11): a store
   * that is behind it was rolled back (or copied from another instance) and must not serve.
   */
  async lastCommittedOnChain(): Promise<number> {
    if (!this.contract) return 0;
    const addr = this.contract;
    const txs = await withRetry(() =>
      this.o.agent.client.getTransactions(addr, { limit: 100, archival: true }),
    );
    let max = 0;
    for (const tx of txs) {
      const body = tx.inMessage?.body;
      const st = body ? parseSaveStateBody(body) : undefined;
      if (st && st.seqno > max) max = st.seqno;
    }
    return max;
  }

  /** Refuses to go on if the chain shows a newer state than the store holds; then commits the current one. */
  async checkAndCommit(storeSeqno: number): Promise<void> {
    const onChain = await this.lastCommittedOnChain();
    if (onChain > storeSeqno) {
      throw new ProtocolError(
        'ROLLBACK_DETECTED',
        `the chain shows state ${onChain} committed, this proxy's store is at ${storeSeqno}: it was rolled back or copied`,
      );
    }
    await this.commit(storeSeqno);
  }

  /** Sends a save_state(seqno, session hash) message to the proxy contract (which ignores it: a record only). */
  async commit(seqno: number): Promise<void> {
    if (!this.contract || seqno <= this.committedSeqno) return;
    const c = this.o.agent.open(ProxyContract.createFromAddress(this.contract));
    await this.o.agent.send(`committing proxy state ${seqno}`, (s) =>
      c.sendBody(s, saveStateBody(seqno, this.session), 1n),
    );
    this.committedSeqno = seqno;
  }

  /** Commits the books' seqno every `everyMs` when it moved (the reference: 30–60 s). */
  startCommits(seqno: () => number, everyMs = 30_000): void {
    this.commitTimer ??= setInterval(() => {
      this.commit(seqno()).catch((e: Error) => this.o.log?.(`state commit: ${e.message}`));
    }, everyMs);
    this.commitTimer.unref();
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
    clearInterval(this.commitTimer);
    this.timer = undefined;
    this.commitTimer = undefined;
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
