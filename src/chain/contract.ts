// What every Cocoon contract wrapper shares: its address and StateInit, and how it sends an internal message.

import {
  type Address,
  type Builder,
  beginCell,
  type Cell,
  type Contract,
  type ContractProvider,
  contractAddress,
  type Sender,
  SendMode,
  toNano,
} from '@ton/core';

export interface StateInit {
  code: Cell;
  data: Cell;
}

/** A contract's StateInit and the address it implies (the address is the hash of code + data). */
export function fromStateInit(code: Cell, data: Cell, workchain = 0): { address: Address; init: StateInit } {
  const init = { code, data };
  return { address: contractAddress(workchain, init), init };
}

export abstract class CocoonContract implements Contract {
  /** Value attached to an owner operation when the caller does not say. */
  protected readonly gas: bigint = toNano('0.05');

  constructor(
    readonly address: Address,
    readonly init?: StateInit,
  ) {}

  /** An internal message carrying `body`; the sender pays forwarding fees separately. */
  protected async message(p: ContractProvider, via: Sender, body: Cell, value: bigint): Promise<void> {
    await p.internal(via, { value, sendMode: SendMode.PAY_GAS_SEPARATELY, body });
  }

  /** A message `op | query_id | …`. */
  protected op(
    p: ContractProvider,
    via: Sender,
    op: number,
    fill: (b: Builder) => void,
    value = this.gas,
    queryId = 0n,
  ): Promise<void> {
    const b = beginCell().storeUint(op, 32).storeUint(queryId, 64);
    fill(b);
    return this.message(p, via, b.endCell(), value);
  }

  /** A text command (`op` 0 and the text), as owners send them from any wallet. */
  protected text(p: ContractProvider, via: Sender, cmd: string, value = this.gas): Promise<void> {
    return this.message(p, via, beginCell().storeUint(0, 32).storeStringTail(cmd).endCell(), value);
  }

  /** Deploys (with the StateInit the provider attaches) by an empty message. */
  protected deploy(p: ContractProvider, via: Sender, value: bigint): Promise<void> {
    return this.message(p, via, beginCell().endCell(), value);
  }
}
