// What a client or worker does with every signed payment message its proxy sends (cocoon-reference.md §9.6,
// §9.7): check the format, the proxy's signature, the operation, the contract it names (its own), and that the
// cumulative amount never goes down; keep the newest, in its store when it has one, so it can submit it on-chain
// itself if the proxy disappears. Anything else is refused with a typed error and the connection dropped.

import { verify as edVerify, type KeyObject } from 'node:crypto';
import { Address, Cell } from '@ton/core';
import { SIGNED_OP } from '../chain/signed.ts';
import { CocoonError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { ed25519PublicKey } from '../tee/cert.ts';
import type { TlTypes } from '../tl/cocoon-api.gen.ts';

export class PaymentError extends CocoonError {}

export interface HeldPayment {
  /** Cumulative tokens the message covers. */
  tokens: bigint;
  /** The signed message body (BOC), as the proxy sent it. */
  boc: Uint8Array;
  queryId: bigint;
}

/**
 * Checks one signed payment body: the proxy's signature over the payload, the operation, the contract.
 *
 * @example
 * const { tokens } = checkPayment(boc, proxyKey, 'worker', myWorkerContract);
 */
export function checkPayment(
  boc: Uint8Array,
  proxyKey: KeyObject,
  kind: 'client' | 'worker',
  contract: Address,
): { tokens: bigint; queryId: bigint } {
  const bad = (code: string, d: string) => new PaymentError(code, d);
  let body: Cell;
  try {
    const cells = Cell.fromBoc(Buffer.from(boc));
    if (cells.length !== 1) throw new Error('not one root');
    body = cells[0] as Cell;
  } catch (err) {
    throw bad('PAYMENT_MALFORMED', `not a signed message: ${(err as Error).message}`);
  }
  const expectedOp = kind === 'client' ? SIGNED_OP.clientCharge : SIGNED_OP.workerPayout;
  try {
    const s = body.beginParse();
    const op = s.loadUint(32);
    const queryId = s.loadUintBig(64);
    s.loadAddress();
    const signature = s.loadBuffer(64);
    const payload = s.loadRef();
    if (s.remainingBits !== 0 || s.remainingRefs !== 0) throw bad('PAYMENT_MALFORMED', 'trailing data');
    if (op !== expectedOp) throw bad('PAYMENT_WRONG_OP', `op ${op.toString(16)} is not a ${kind} payment`);
    if (!edVerify(null, payload.hash(), proxyKey, signature)) {
      throw bad('PAYMENT_BAD_SIGNATURE', 'the proxy did not sign this payment');
    }
    const p = payload.beginParse();
    if (p.loadUint(32) !== op || p.loadUintBig(64) !== queryId) {
      throw bad('PAYMENT_MALFORMED', 'the signed payload is for another op or query');
    }
    const tokens = p.loadUintBig(64);
    const expected = p.loadAddress();
    if (!expected.equals(contract)) {
      throw bad('PAYMENT_FOREIGN', `signed for contract ${expected.toString()}, not ${contract.toString()}`);
    }
    return { tokens, queryId };
  } catch (err) {
    if (err instanceof PaymentError) throw err;
    throw bad('PAYMENT_MALFORMED', `not a signed message: ${(err as Error).message}`);
  }
}

/**
 * The newest signed payment from one proxy for one contract.
 *
 * @example
 * const held = new PaymentTracker({ kind: 'worker', proxyPublicKey, contract, store, key: 'payment:EQ…' });
 * held.accept(message.signed_payment); // throws PaymentError on a forged, lower or foreign one
 */
export class PaymentTracker {
  private readonly proxyKey: KeyObject;
  private readonly contract: Address | undefined;
  latest: HeldPayment | undefined;
  accepted = 0;

  constructor(
    private readonly opts: {
      kind: 'client' | 'worker';
      proxyPublicKey: Uint8Array;
      /** The contract payments must name ('' when the network has none: then only empty payments are valid). */
      contract: string;
      store?: Store;
      /** Store key of this proxy-contract pair. */
      key: string;
    },
  ) {
    this.proxyKey = ed25519PublicKey(opts.proxyPublicKey);
    this.contract = opts.contract ? Address.parse(opts.contract) : undefined;
    const saved = opts.store?.get<{ tokens: bigint; queryId: bigint; boc: string }>(opts.key);
    if (saved)
      this.latest = { tokens: saved.tokens, queryId: saved.queryId, boc: Buffer.from(saved.boc, 'base64') };
  }

  /** Tokens the newest held message covers (0 without one). */
  get tokens(): bigint {
    return this.latest?.tokens ?? 0n;
  }

  /**
   * Accepts a payment message: `new` when it raised the held amount, `same` for the held amount again (a replay
   * changes nothing), `empty` for none. Resolves once the amount it carries (or a higher one) is persisted.
   *
   * Messages are checked as they arrive, in arrival order, against the newest one seen; under load they arrive
   * faster than synced writes complete, so while one write is under way the messages behind it are not queued
   * for writes of their own: the next write persists only the newest of them, and all of them resolve with it.
   */
  async accept(p: TlTypes['proxy.SignedPayment']): Promise<'new' | 'same' | 'empty'> {
    if (p._ === 'proxy.signedPaymentEmpty') return 'empty';
    if (!this.contract) {
      throw new PaymentError('PAYMENT_FOREIGN', 'a signed payment where the network has no contract for it');
    }
    const { tokens, queryId } = checkPayment(p.data, this.proxyKey, this.opts.kind, this.contract);
    const seen = this.newest?.tokens ?? this.tokens;
    if (tokens < seen) {
      throw new PaymentError(
        'PAYMENT_LOWER',
        `the proxy signed ${tokens} tokens after ${seen}: its state went back (rollback or clone)`,
      );
    }
    if (tokens === seen && (this.newest ?? this.latest)) {
      await this.persisted(tokens);
      return 'same';
    }
    this.newest = { tokens, boc: Uint8Array.from(p.data), queryId };
    await this.persisted(tokens);
    return 'new';
  }

  /** The newest checked message, persisted or not yet. */
  private newest: HeldPayment | undefined;
  private writing: Promise<void> | undefined;

  /** Resolves once `latest` covers `tokens`; runs the single write loop when none is running. */
  private async persisted(tokens: bigint): Promise<void> {
    while (!(this.latest && this.latest.tokens >= tokens)) {
      if (!this.writing) {
        this.writing = this.writeNewest().finally(() => {
          this.writing = undefined;
        });
      }
      await this.writing;
    }
  }

  private async writeNewest(): Promise<void> {
    const next = this.newest;
    if (!next || (this.latest && next.tokens <= this.latest.tokens)) return;
    await this.opts.store?.transaction((tx) =>
      tx.put(this.opts.key, { ...next, boc: Buffer.from(next.boc).toString('base64') }),
    );
    this.latest = next;
    this.accepted++;
  }
}
