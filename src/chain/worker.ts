// A worker's contract with one proxy contract, from TypeScript.

import { type Address, beginCell, type Cell, type ContractProvider, type Sender, toNano } from '@ton/core';
import { CocoonContract, fromStateInit } from './contract.ts';
import { type CocoonParams, storeParams } from './root.ts';

export const WORKER_OP = {
  ownerWorkerRegister: 0x26ed7f65,
  workerProxyRequest: 0x4d725d2c,
  workerProxyPayoutRequest: 0x08e7d036,
} as const;

export const WORKER_STATE = { normal: 0, closed: 2 } as const;

export interface WorkerConfig {
  owner: Address;
  /** The proxy contract. */
  proxy: Address;
  proxyPublicKey: Buffer;
  /** The network params without child codes (cocoon-reference.md §9.3). */
  params: CocoonParams;
}

export function workerConfigToCell(c: WorkerConfig): Cell {
  const params = { ...c.params, proxyScCode: null, workerScCode: null, clientScCode: null };
  return beginCell()
    .storeAddress(c.owner)
    .storeAddress(c.proxy)
    .storeBuffer(c.proxyPublicKey, 32)
    .storeUint(WORKER_STATE.normal, 2)
    .storeUint(0, 64)
    .storeRef(beginCell().store(storeParams(params)).endCell())
    .endCell();
}

export class WorkerContract extends CocoonContract {
  static createFromAddress(address: Address): WorkerContract {
    return new WorkerContract(address);
  }

  /** The address is derived from code + data, so the proxy contract can recompute it. */
  static createFromConfig(config: WorkerConfig, code: Cell, workchain = 0): WorkerContract {
    const { address, init } = fromStateInit(code, workerConfigToCell(config), workchain);
    return new WorkerContract(address, init);
  }

  sendDeploy(p: ContractProvider, via: Sender, value = toNano('0.3')): Promise<void> {
    return this.deploy(p, via, value);
  }

  /** Submits a proxy-signed (last) payout; see signed.ts. At least 0.1 TON must come with it. */
  async sendSigned(p: ContractProvider, via: Sender, body: Cell, value = toNano('0.5')): Promise<void> {
    await this.message(p, via, body, value);
  }

  sendRegister(
    p: ContractProvider,
    via: Sender,
    sendExcessesTo: Address,
    value = toNano('0.2'),
  ): Promise<void> {
    return this.op(p, via, WORKER_OP.ownerWorkerRegister, (b) => b.storeAddress(sendExcessesTo), value);
  }

  async sendRaw(p: ContractProvider, via: Sender, body: Cell, value = toNano('0.5')): Promise<void> {
    await this.message(p, via, body, value);
  }

  async getWorkerData(p: ContractProvider) {
    const { stack } = await p.get('get_cocoon_worker_data', []);
    return {
      owner: stack.readAddress(),
      proxy: stack.readAddress(),
      proxyPublicKey: stack.readBigNumber(),
      state: stack.readNumber(),
      tokens: stack.readBigNumber(),
    };
  }
}
