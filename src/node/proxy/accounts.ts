// The proxy's books (cocoon-reference.md §9.7, §11): for each client and worker, the adjusted tokens used or
// earned — live (`tokens`), committed to the proxy's store (`committed`), and, with the chain, committed on-chain.
// Every change is committed in batches (one synced transaction for all requests that ended in the same tick);
// payment messages are signed only over committed amounts, so a crash can never leave a client or worker holding a
// signed amount the restarted proxy does not know about.

import { sign as edSign, type KeyObject } from 'node:crypto';
import { Address, beginCell } from '@ton/core';
import { payloadCell, SIGNED_OP } from '../../chain/signed.ts';
import type { Store } from '../../store/store.ts';
import type { TlTypes } from '../../tl/cocoon-api.gen.ts';

export type AccountKind = 'client' | 'worker';

export interface Account {
  kind: AccountKind;
  owner: string;
  /** The client's or worker's contract with this proxy ('' when the root config cannot derive it). */
  scAddress: string;
  /** Tokens used (client) or earned (worker), live. */
  tokens: bigint;
  /** Tokens committed to the store: what signed messages cover. */
  committed: bigint;
  /** Tokens reserved by requests in flight (clients; not persisted). */
  reserved: bigint;
  requests: number;
  lastRequestAt: number;
}

/** Signs payment messages with the proxy's key (the key its contract and handshakes name). */
export interface PaymentSigner {
  privateKey: KeyObject;
  /** Where the gas excess of a submitted message goes (holders repack it with their own address). */
  excessesTo: Address;
}

const EMPTY: TlTypes['proxy.SignedPayment'] = { _: 'proxy.signedPaymentEmpty' };

export class ProxyAccounts {
  private readonly rows = new Map<string, Account>();
  private readonly dirty = new Set<Account>();
  private flushing: Promise<void> | undefined;
  private readonly waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** Increases with every committed batch; also the query id of signed messages. */
  seqno = 0;
  private readonly signed = new Map<Account, { tokens: bigint; payment: TlTypes['proxy.SignedPayment'] }>();

  constructor(
    private readonly store: Store | undefined,
    private readonly signer: PaymentSigner | undefined,
  ) {
    if (!store) return;
    this.seqno = store.get<{ seqno: number }>('config')?.seqno ?? 0;
    for (const kind of ['client', 'worker'] as const) {
      for (const { value } of store.list<Omit<Account, 'reserved'>>(`${kind}:`)) {
        this.rows.set(`${kind}:${value.owner}`, { ...value, reserved: 0n, committed: value.tokens });
      }
    }
  }

  get(kind: AccountKind, owner: string, scAddress = ''): Account {
    const key = `${kind}:${owner}`;
    let a = this.rows.get(key);
    if (!a) {
      a = { kind, owner, scAddress, tokens: 0n, committed: 0n, reserved: 0n, requests: 0, lastRequestAt: 0 };
      this.rows.set(key, a);
    }
    if (scAddress && !a.scAddress) a.scAddress = scAddress;
    return a;
  }

  all(kind: AccountKind): Account[] {
    return [...this.rows.values()].filter((a) => a.kind === kind);
  }

  /** Adds tokens to an account (live); committed with the next flush. */
  add(a: Account, tokens: bigint): void {
    a.tokens += tokens;
    a.requests++;
    a.lastRequestAt = Date.now();
    this.dirty.add(a);
  }

  /**
   * Commits every changed account in one synced transaction; resolves once the changes present at the call are
   * durable. Calls during a flush share the next one.
   */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.flushing ??= this.run().finally(() => {
        this.flushing = undefined;
      });
    });
  }

  private async run(): Promise<void> {
    // Let requests ending in the same tick join this batch.
    await new Promise((r) => setImmediate(r));
    while (this.waiters.length > 0) {
      const waiting = this.waiters.splice(0);
      const batch = [...this.dirty].map((a) => [a, a.tokens] as const);
      this.dirty.clear();
      if (batch.length > 0) {
        const seqno = this.seqno + 1;
        try {
          await this.store?.transaction((tx) => {
            tx.put('config', { seqno });
            for (const [a, tokens] of batch) {
              tx.put(`${a.kind}:${a.owner}`, {
                kind: a.kind,
                owner: a.owner,
                scAddress: a.scAddress,
                tokens,
                requests: a.requests,
                lastRequestAt: a.lastRequestAt,
              });
            }
          });
        } catch (err) {
          // Nothing of this batch is durable: its accounts stay changed for a later flush, and every caller
          // waiting (this batch's and those that joined meanwhile) learns it failed, so none waits forever.
          for (const [a] of batch) this.dirty.add(a);
          for (const w of [...waiting, ...this.waiters.splice(0)]) w.reject(err);
          return;
        }
        this.seqno = seqno;
        for (const [a, tokens] of batch) if (tokens > a.committed) a.committed = tokens;
      }
      for (const w of waiting) w.resolve();
    }
  }

  /**
   * The signed message for an account's committed tokens: a charge for a client contract, a payout for a worker
   * contract. Empty when there is no contract to name (a root config without contract codes) or no signer.
   */
  payment(a: Account): TlTypes['proxy.SignedPayment'] {
    if (!this.signer || !a.scAddress) return EMPTY;
    const cached = this.signed.get(a);
    if (cached && cached.tokens === a.committed) return cached.payment;
    const op = a.kind === 'client' ? SIGNED_OP.clientCharge : SIGNED_OP.workerPayout;
    const queryId = BigInt(this.seqno);
    const payload = payloadCell({
      op,
      queryId,
      tokens: a.committed,
      expectedAddress: Address.parse(a.scAddress),
    });
    // node:crypto signs in tens of microseconds; the pure-JS signer of @ton/crypto takes a millisecond.
    const signature = edSign(null, payload.hash(), this.signer.privateKey);
    const body = beginCell()
      .storeUint(op, 32)
      .storeUint(queryId, 64)
      .storeAddress(this.signer.excessesTo)
      .storeBuffer(signature)
      .storeRef(payload)
      .endCell();
    const payment: TlTypes['proxy.SignedPayment'] = { _: 'proxy.signedPayment', data: body.toBoc() };
    this.signed.set(a, { tokens: a.committed, payment });
    return payment;
  }
}
