// The Cocoon wallet (a node's hot wallet) from TypeScript: its data, signed external batches, owner commands.

import {
  type Address,
  type Builder,
  beginCell,
  type Cell,
  type ContractProvider,
  type MessageRelaxed,
  type Sender,
  storeMessageRelaxed,
} from '@ton/core';
import { sign } from '@ton/crypto';
import { CocoonContract, fromStateInit } from './contract.ts';

export const WALLET_OP = { ownerSendMessage: 0x9c69f376 } as const;

/** Wallet error codes (cocoon-reference.md §9.2). */
export const WALLET_ERROR = {
  expired: 1030,
  blocked: 1031,
  badSeqno: 1032,
  badSubwallet: 1033,
  badSignature: 1034,
  lowBalance: 1035,
  notOwner: 1040,
  badOp: 1041,
} as const;

export interface CocoonWalletConfig {
  publicKey: Buffer;
  owner: Address;
  subwalletId?: number;
}

export function cocoonWalletConfigToCell(c: CocoonWalletConfig): Cell {
  return beginCell()
    .storeUint(0, 32)
    .storeUint(c.subwalletId ?? 0, 32)
    .storeBuffer(c.publicKey, 32)
    .storeUint(0, 32)
    .storeAddress(c.owner)
    .endCell();
}

export interface OutMessage {
  message: MessageRelaxed;
  mode: number;
}

/**
 * The signed body of an external batch: signature over the hash of subwallet | valid_until | seqno | up to four
 * (mode, message ref).
 */
export function signedBatch(opts: {
  secretKey: Buffer;
  seqno: number;
  validUntil: number;
  subwalletId?: number;
  messages: OutMessage[];
}): Cell {
  if (opts.messages.length > 4) throw new RangeError('a batch holds at most 4 messages');
  const b = beginCell()
    .storeUint(opts.subwalletId ?? 0, 32)
    .storeUint(opts.validUntil, 32)
    .storeUint(opts.seqno, 32);
  for (const m of opts.messages)
    b.storeUint(m.mode, 8).storeRef(beginCell().store(storeMessageRelaxed(m.message)).endCell());
  const signed = b.endCell();
  return beginCell()
    .storeBuffer(sign(signed.hash(), opts.secretKey))
    .storeSlice(signed.beginParse())
    .endCell();
}

/**
 * @example
 * const w = client.open(CocoonWallet.createFromConfig({ publicKey, owner }, code));
 * await w.sendBatch({ secretKey, seqno: await w.getSeqno(), messages: [{ mode: 1, message: internal({...}) }] });
 */
export class CocoonWallet extends CocoonContract {
  static createFromAddress(address: Address): CocoonWallet {
    return new CocoonWallet(address);
  }

  static createFromConfig(config: CocoonWalletConfig, code: Cell, workchain = 0): CocoonWallet {
    const { address, init } = fromStateInit(code, cocoonWalletConfigToCell(config), workchain);
    return new CocoonWallet(address, init);
  }

  sendDeploy(p: ContractProvider, via: Sender, value: bigint): Promise<void> {
    return this.deploy(p, via, value);
  }

  /** Sends a signed batch as an external message (valid for an hour by default). */
  async sendBatch(
    p: ContractProvider,
    opts: Parameters<typeof signedBatch>[0] extends infer O
      ? Omit<O & object, 'validUntil'> & { validUntil?: number }
      : never,
  ): Promise<void> {
    const validUntil = opts.validUntil ?? Math.floor(Date.now() / 1000) + 3600;
    await p.external(signedBatch({ ...opts, validUntil }));
  }

  /** Owner text commands: "w" withdraw all but 0.01 TON, "b" block, "u" unblock. */
  sendOwnerCommand(p: ContractProvider, via: Sender, cmd: 'w' | 'b' | 'u', value = this.gas): Promise<void> {
    return this.text(p, via, cmd, value);
  }

  sendOwnerMessage(
    p: ContractProvider,
    via: Sender,
    message: MessageRelaxed,
    mode: number,
    value = this.gas,
  ): Promise<void> {
    const fill = (b: Builder) =>
      b.storeUint(mode, 8).storeRef(beginCell().store(storeMessageRelaxed(message)).endCell());
    return this.op(p, via, WALLET_OP.ownerSendMessage, fill, value);
  }

  async getSeqno(p: ContractProvider): Promise<number> {
    const st = await p.getState();
    if (st.state.type !== 'active') return 0;
    return (await p.get('seqno', [])).stack.readNumber();
  }
  async getStatus(p: ContractProvider): Promise<number> {
    return (await p.get('get_wallet_status', [])).stack.readNumber();
  }
  async getOwner(p: ContractProvider): Promise<Address> {
    return (await p.get('get_owner', [])).stack.readAddress();
  }
  async getPublicKey(p: ContractProvider): Promise<bigint> {
    return (await p.get('get_public_key', [])).stack.readBigNumber();
  }
}
