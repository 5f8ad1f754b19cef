// The proxy-signed messages that move money (cocoon-reference.md §9.6): an inner payload cell
// `op | query_id | [cumulative tokens] | expected contract address`, signed with Ed25519 over its cell hash, inside an
// outer body `op | query_id | send_excesses_to | signature | ref(payload)`. The excess receiver is outside the
// signature, so whoever submits a signed message can repack it with their own address.

import { type Address, beginCell, type Cell } from '@ton/core';
import { sign, signVerify } from '@ton/crypto';
import { CocoonError } from '../errors.ts';

export const SIGNED_OP = {
  clientCharge: 0xbb63ff93,
  clientGrantRefund: 0xefd711e1,
  workerPayout: 0xa040ad28,
  workerLastPayout: 0xf5f26a36,
  proxyCloseRequest: 0x636a4391,
  proxyCloseComplete: 0xe511abc7,
} as const;

const WITH_TOKENS = new Set<number>([
  SIGNED_OP.clientCharge,
  SIGNED_OP.clientGrantRefund,
  SIGNED_OP.workerPayout,
  SIGNED_OP.workerLastPayout,
]);

export interface SignedPayload {
  op: number;
  queryId: bigint;
  /** Cumulative tokens (charges and payouts only). */
  tokens?: bigint;
  /** The contract this payload is valid for. */
  expectedAddress: Address;
}

export function payloadCell(p: SignedPayload): Cell {
  const b = beginCell().storeUint(p.op, 32).storeUint(p.queryId, 64);
  if (WITH_TOKENS.has(p.op)) {
    if (p.tokens === undefined)
      throw new CocoonError('SIGNED_FORMAT', 'this message carries cumulative tokens');
    b.storeUint(p.tokens, 64);
  }
  return b.storeAddress(p.expectedAddress).endCell();
}

/**
 * Builds a signed message body with the proxy's secret key.
 *
 * @example
 * const body = signedMessage({ op: SIGNED_OP.workerPayout, queryId: 1n, tokens: 5000n, expectedAddress: worker }, proxyKey, proxyWallet);
 */
export function signedMessage(p: SignedPayload, secretKey: Buffer, sendExcessesTo: Address): Cell {
  const payload = payloadCell(p);
  return beginCell()
    .storeUint(p.op, 32)
    .storeUint(p.queryId, 64)
    .storeAddress(sendExcessesTo)
    .storeBuffer(sign(payload.hash(), secretKey))
    .storeRef(payload)
    .endCell();
}

/** What an off-chain holder checks before submitting: format, signature, and the contract it is for. */
export function verifySignedMessage(
  body: Cell,
  publicKey: Buffer,
  expectedAddress?: Address,
): SignedPayload & { sendExcessesTo: Address } {
  const fail = (d: string) => new CocoonError('SIGNED_INVALID', d);
  const s = body.beginParse();
  const op = s.loadUint(32);
  const queryId = s.loadUintBig(64);
  const sendExcessesTo = s.loadAddress();
  const signature = s.loadBuffer(64);
  const payload = s.loadRef();
  if (s.remainingBits !== 0 || s.remainingRefs !== 0) throw fail('trailing data');
  if (!signVerify(payload.hash(), signature, publicKey)) throw fail('bad signature');
  const p = payload.beginParse();
  const pop = p.loadUint(32);
  const pq = p.loadUintBig(64);
  if (pop !== op || pq !== queryId) throw fail('the payload is for another op or query');
  const tokens = WITH_TOKENS.has(op) ? p.loadUintBig(64) : undefined;
  const expected = p.loadAddress();
  if (expectedAddress && !expected.equals(expectedAddress)) throw fail('signed for another contract');
  const out: SignedPayload & { sendExcessesTo: Address } = {
    op,
    queryId,
    expectedAddress: expected,
    sendExcessesTo,
  };
  if (tokens !== undefined) out.tokens = tokens;
  return out;
}

/** The same signed message with another excess receiver (not covered by the signature). */
export function repackExcesses(body: Cell, sendExcessesTo: Address): Cell {
  const s = body.beginParse();
  const op = s.loadUint(32);
  const queryId = s.loadUintBig(64);
  s.loadAddress();
  const signature = s.loadBuffer(64);
  const payload = s.loadRef();
  return beginCell()
    .storeUint(op, 32)
    .storeUint(queryId, 64)
    .storeAddress(sendExcessesTo)
    .storeBuffer(signature)
    .storeRef(payload)
    .endCell();
}
