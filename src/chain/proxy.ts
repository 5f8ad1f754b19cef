// A proxy's contract from TypeScript: data (cocoon-reference.md §9.3), messages, getters, and the addresses of
// the worker and client contracts it recognises.

import {
  type Address,
  beginCell,
  type Cell,
  type Contract,
  type ContractProvider,
  contractAddress,
  type Sender,
  SendMode,
  toNano,
} from '@ton/core';
import { type CocoonParams, storeParams } from './root.ts';
import { SIGNED_OP, signedMessage } from './signed.ts';

export const PROXY_OP = {
  extProxyPayoutRequest: 0x7610e6eb,
  extProxyIncreaseStake: 0x9713f187,
  ownerProxyClose: 0xb51d5a01,
  payout: 0xc59a7cd3,
  proxySaveState: 0x53109c0f,
  doNotProcess: 0x9a1247c0,
} as const;

export const PROXY_STATE = { normal: 0, closing: 1, closed: 2 } as const;

export interface ProxyConfig {
  owner: Address;
  proxyPublicKey: Buffer;
  root: Address;
  /** Root params; the proxy keeps the worker and client codes, not its own. */
  params: CocoonParams;
}

export function proxyConfigToCell(c: ProxyConfig): Cell {
  const params = { ...c.params, proxyScCode: null };
  return beginCell()
    .storeAddress(c.owner)
    .storeBuffer(c.proxyPublicKey, 32)
    .storeAddress(c.root)
    .storeUint(PROXY_STATE.normal, 2)
    .storeCoins(0)
    .storeCoins(0)
    .storeUint(0, 32)
    .storeRef(beginCell().store(storeParams(params)).endCell())
    .endCell();
}

/** A state commit: a do_not_process message carrying proxy_save_state(seqno, session hash), which contracts ignore. */
export function saveStateBody(seqno: number, sessionHash: Buffer): Cell {
  return beginCell()
    .storeUint(PROXY_OP.doNotProcess, 32)
    .storeUint(PROXY_OP.proxySaveState, 32)
    .storeUint(seqno, 32)
    .storeBuffer(sessionHash, 32)
    .endCell();
}

export function parseSaveStateBody(body: Cell): { seqno: number; sessionHash: Buffer } | undefined {
  const s = body.beginParse();
  if (
    s.remainingBits < 32 + 32 + 32 + 256 ||
    s.loadUint(32) !== PROXY_OP.doNotProcess ||
    s.loadUint(32) !== PROXY_OP.proxySaveState
  )
    return undefined;
  return { seqno: s.loadUint(32), sessionHash: s.loadBuffer(32) };
}

export class ProxyContract implements Contract {
  constructor(
    readonly address: Address,
    readonly init?: { code: Cell; data: Cell },
  ) {}

  static createFromAddress(address: Address): ProxyContract {
    return new ProxyContract(address);
  }

  static createFromConfig(config: ProxyConfig, code: Cell, workchain = 0): ProxyContract {
    const init = { code, data: proxyConfigToCell(config) };
    return new ProxyContract(contractAddress(workchain, init), init);
  }

  async sendDeploy(p: ContractProvider, via: Sender, value = toNano('0.3')): Promise<void> {
    await p.internal(via, { value, sendMode: SendMode.PAY_GAS_SEPARATELY, body: beginCell().endCell() });
  }

  async sendIncreaseStake(
    p: ContractProvider,
    via: Sender,
    amount: bigint,
    sendExcessesTo: Address,
  ): Promise<void> {
    const body = beginCell()
      .storeUint(PROXY_OP.extProxyIncreaseStake, 32)
      .storeUint(0, 64)
      .storeCoins(amount)
      .storeAddress(sendExcessesTo)
      .endCell();
    await p.internal(via, { value: amount + toNano('0.2'), sendMode: SendMode.PAY_GAS_SEPARATELY, body });
  }

  async sendPayoutRequest(p: ContractProvider, via: Sender, sendExcessesTo: Address): Promise<void> {
    const body = beginCell()
      .storeUint(PROXY_OP.extProxyPayoutRequest, 32)
      .storeUint(0, 64)
      .storeAddress(sendExcessesTo)
      .endCell();
    await p.internal(via, { value: toNano('0.2'), sendMode: SendMode.PAY_GAS_SEPARATELY, body });
  }

  async sendOwnerClose(p: ContractProvider, via: Sender, sendExcessesTo: Address): Promise<void> {
    const body = beginCell()
      .storeUint(PROXY_OP.ownerProxyClose, 32)
      .storeUint(0, 64)
      .storeAddress(sendExcessesTo)
      .endCell();
    await p.internal(via, { value: toNano('0.2'), sendMode: SendMode.PAY_GAS_SEPARATELY, body });
  }

  /** A proxy-key-signed close request (first step) or close completion (after the delay). */
  closeBody(step: 'request' | 'complete', secretKey: Buffer, sendExcessesTo: Address, queryId = 0n): Cell {
    const op = step === 'request' ? SIGNED_OP.proxyCloseRequest : SIGNED_OP.proxyCloseComplete;
    return signedMessage({ op, queryId, expectedAddress: this.address }, secretKey, sendExcessesTo);
  }

  async sendBody(p: ContractProvider, via: Sender, body: Cell, value = toNano('0.2')): Promise<void> {
    await p.internal(via, { value, sendMode: SendMode.PAY_GAS_SEPARATELY, body });
  }

  async sendText(p: ContractProvider, via: Sender, cmd: 'c' | 'w'): Promise<void> {
    await p.internal(via, {
      value: toNano('0.2'),
      sendMode: SendMode.PAY_GAS_SEPARATELY,
      body: beginCell().storeUint(0, 32).storeStringTail(cmd).endCell(),
    });
  }

  async getProxyData(p: ContractProvider) {
    const { stack } = await p.get('get_cocoon_proxy_data', []);
    return {
      owner: stack.readAddress(),
      proxyPublicKey: stack.readBigNumber(),
      root: stack.readAddress(),
      state: stack.readNumber(),
      balance: stack.readBigNumber(),
      stake: stack.readBigNumber(),
      unlockTs: stack.readNumber(),
      pricePerToken: stack.readBigNumber(),
      workerFeePerToken: stack.readBigNumber(),
      minProxyStake: stack.readBigNumber(),
      minClientStake: stack.readBigNumber(),
      paramsVersion: stack.readNumber(),
    };
  }
}
