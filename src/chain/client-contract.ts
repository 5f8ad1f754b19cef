// A client's contract with one proxy contract, from TypeScript.

import { type Address, beginCell, type Cell, type ContractProvider, type Sender, toNano } from '@ton/core';
import { CocoonContract, fromStateInit } from './contract.ts';
import { type CocoonParams, storeParams } from './root.ts';

export const CLIENT_OP = {
  extClientTopUp: 0xf172e6c2,
  ownerClientChangeSecretHashAndTopUp: 0x8473b408,
  ownerClientRegister: 0xc45f9f3b,
  ownerClientChangeSecretHash: 0xa9357034,
  ownerClientIncreaseStake: 0x6a1f6a60,
  ownerClientWithdraw: 0xda068e78,
  ownerClientRequestRefund: 0xfafa6cc1,
  clientProxyRequest: 0x65448ff4,
} as const;

export const CLIENT_STATE = { normal: 0, closing: 1, closed: 2 } as const;

export interface ClientConfig {
  owner: Address;
  /** The proxy contract. */
  proxy: Address;
  proxyPublicKey: Buffer;
  params: CocoonParams;
}

/** The initial data: stake = minClientStake, params without codes (cocoon-reference.md §9.3). */
export function clientConfigToCell(c: ClientConfig): Cell {
  const params = { ...c.params, proxyScCode: null, workerScCode: null, clientScCode: null };
  return beginCell()
    .storeUint(CLIENT_STATE.normal, 2)
    .storeCoins(0)
    .storeCoins(c.params.minClientStake)
    .storeUint(0, 64)
    .storeUint(0, 32)
    .storeUint(0, 256)
    .storeRef(
      beginCell().storeAddress(c.owner).storeAddress(c.proxy).storeBuffer(c.proxyPublicKey, 32).endCell(),
    )
    .storeRef(beginCell().store(storeParams(params)).endCell())
    .endCell();
}

export class ClientContract extends CocoonContract {
  static createFromAddress(address: Address): ClientContract {
    return new ClientContract(address);
  }

  static createFromConfig(config: ClientConfig, code: Cell, workchain = 0): ClientContract {
    const { address, init } = fromStateInit(code, clientConfigToCell(config), workchain);
    return new ClientContract(address, init);
  }

  sendDeploy(p: ContractProvider, via: Sender, value = toNano('0.8')): Promise<void> {
    return this.deploy(p, via, value);
  }

  protected override readonly gas = toNano('0.2');

  sendTopUp(p: ContractProvider, via: Sender, amount: bigint, excessesTo: Address) {
    return this.op(
      p,
      via,
      CLIENT_OP.extClientTopUp,
      (b) => b.storeCoins(amount).storeAddress(excessesTo),
      amount + this.gas,
    );
  }
  sendRegister(p: ContractProvider, via: Sender, nonce: bigint, excessesTo: Address) {
    return this.op(p, via, CLIENT_OP.ownerClientRegister, (b) =>
      b.storeUint(nonce, 64).storeAddress(excessesTo),
    );
  }
  sendChangeSecretHash(p: ContractProvider, via: Sender, hash: bigint, excessesTo: Address) {
    return this.op(p, via, CLIENT_OP.ownerClientChangeSecretHash, (b) =>
      b.storeUint(hash, 256).storeAddress(excessesTo),
    );
  }
  sendIncreaseStake(p: ContractProvider, via: Sender, newStake: bigint, excessesTo: Address) {
    return this.op(p, via, CLIENT_OP.ownerClientIncreaseStake, (b) =>
      b.storeCoins(newStake).storeAddress(excessesTo),
    );
  }
  sendWithdraw(p: ContractProvider, via: Sender, excessesTo: Address) {
    return this.op(p, via, CLIENT_OP.ownerClientWithdraw, (b) => b.storeAddress(excessesTo));
  }
  sendRequestRefund(p: ContractProvider, via: Sender, excessesTo: Address) {
    return this.op(p, via, CLIENT_OP.ownerClientRequestRefund, (b) => b.storeAddress(excessesTo));
  }
  /** A proxy-signed charge or final settlement (see signed.ts). */
  async sendSigned(p: ContractProvider, via: Sender, body: Cell, value = this.gas): Promise<void> {
    await this.message(p, via, body, value);
  }

  async getClientData(p: ContractProvider) {
    const { stack } = await p.get('get_cocoon_client_data', []);
    return {
      owner: stack.readAddress(),
      proxy: stack.readAddress(),
      proxyPublicKey: stack.readBigNumber(),
      state: stack.readNumber(),
      balance: stack.readBigNumber(),
      stake: stack.readBigNumber(),
      tokensUsed: stack.readBigNumber(),
      unlockTs: stack.readNumber(),
      secretHash: stack.readBigNumber(),
    };
  }
}
