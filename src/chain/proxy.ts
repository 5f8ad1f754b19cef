// A proxy's contract from TypeScript: data (cocoon-reference.md §9.3), messages, getters, and the addresses of
// the worker and client contracts it recognises.

import {
  type Address,
  type Builder,
  beginCell,
  type Cell,
  type ContractProvider,
  type Sender,
  toNano,
} from '@ton/core';
import { CocoonContract, fromStateInit } from './contract.ts';
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

export class ProxyContract extends CocoonContract {
  protected override readonly gas = toNano('0.2');

  static createFromAddress(address: Address): ProxyContract {
    return new ProxyContract(address);
  }

  static createFromConfig(config: ProxyConfig, code: Cell, workchain = 0): ProxyContract {
    const { address, init } = fromStateInit(code, proxyConfigToCell(config), workchain);
    return new ProxyContract(address, init);
  }

  sendDeploy(p: ContractProvider, via: Sender, value = toNano('0.3')): Promise<void> {
    return this.deploy(p, via, value);
  }

  sendIncreaseStake(
    p: ContractProvider,
    via: Sender,
    amount: bigint,
    sendExcessesTo: Address,
  ): Promise<void> {
    const fill = (b: Builder) => b.storeCoins(amount).storeAddress(sendExcessesTo);
    return this.op(p, via, PROXY_OP.extProxyIncreaseStake, fill, amount + this.gas);
  }

  sendPayoutRequest(p: ContractProvider, via: Sender, sendExcessesTo: Address): Promise<void> {
    return this.op(p, via, PROXY_OP.extProxyPayoutRequest, (b) => b.storeAddress(sendExcessesTo));
  }

  sendOwnerClose(p: ContractProvider, via: Sender, sendExcessesTo: Address): Promise<void> {
    return this.op(p, via, PROXY_OP.ownerProxyClose, (b) => b.storeAddress(sendExcessesTo));
  }

  /** A proxy-key-signed close request (first step) or close completion (after the delay). */
  closeBody(step: 'request' | 'complete', secretKey: Buffer, sendExcessesTo: Address, queryId = 0n): Cell {
    const op = step === 'request' ? SIGNED_OP.proxyCloseRequest : SIGNED_OP.proxyCloseComplete;
    return signedMessage({ op, queryId, expectedAddress: this.address }, secretKey, sendExcessesTo);
  }

  async sendBody(p: ContractProvider, via: Sender, body: Cell, value = this.gas): Promise<void> {
    await this.message(p, via, body, value);
  }

  sendText(p: ContractProvider, via: Sender, cmd: 'c' | 'w'): Promise<void> {
    return this.text(p, via, cmd);
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
