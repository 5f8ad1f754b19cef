// The root contract from TypeScript (Blueprint style): its data cell, every owner message, and its get methods.

import { createHash } from 'node:crypto';
import {
  type Address,
  type Builder,
  beginCell,
  Cell,
  type ContractProvider,
  Dictionary,
  type DictionaryValue,
  type Sender,
  type Slice,
  toNano,
} from '@ton/core';
import { CocoonError } from '../errors.ts';
import { CocoonContract, fromStateInit } from './contract.ts';

/** Opcodes of root messages (cocoon-reference.md §9.2). */
export const ROOT_OP = {
  addWorkerType: 0xe34b1c60,
  delWorkerType: 0x8d94a79a,
  addModelType: 0xc146134d,
  delModelType: 0x92b11c18,
  addProxyType: 0x71860e80,
  delProxyType: 0x3c41d0b2,
  registerProxy: 0x927c7cb5,
  unregisterProxy: 0x6d49eaf2,
  updateProxy: 0x9c7924ba,
  changePrice: 0xc52ed8d4,
  changeParams: 0x022fa189,
  upgradeContracts: 0xa2370f61,
  upgrade: 0x11aefd51,
  upgradeFull: 0x4f7c5789,
  reset: 0x563c1d96,
  changeOwner: 0xc4a1ae54,
  excesses: 0x2565934c,
  doNotProcess: 0x9a1247c0,
} as const;

/** Contract error codes (cocoon-reference.md §9.2). */
export const CONTRACT_ERROR = {
  oldMessage: 1000,
  lowSmcBalance: 1001,
  lowBalance: 1002,
  lowMsgValue: 1003,
  msgFormatMismatch: 1004,
  signedMsgFormatMismatch: 1005,
  closed: 1006,
  badSignature: 1007,
  expectedOwner: 1009,
  expectedMessageFromOwner: 1010,
  notUnlockedYet: 1011,
  unknownOp: 1012,
  contractAddressMismatch: 1014,
  expectedMyAddress: 1015,
  unknownProxyType: 2000,
} as const;

/** The network parameters (params cell, struct version 3). Money is nanoTON. */
export interface CocoonParams {
  structVersion: number;
  paramsVersion: number;
  uniqueId: number;
  isTest: boolean;
  pricePerToken: bigint;
  workerFeePerToken: bigint;
  promptTokensPriceMultiplier: number;
  cachedTokensPriceMultiplier: number;
  completionTokensPriceMultiplier: number;
  reasoningTokensPriceMultiplier: number;
  proxyDelayBeforeClose: number;
  clientDelayBeforeClose: number;
  minProxyStake: bigint;
  minClientStake: bigint;
  proxyScCode: Cell | null;
  workerScCode: Cell | null;
  clientScCode: Cell | null;
}

/** Parameters of a fresh test network; multipliers 10000 = 1.0×. */
export function defaultParams(overrides: Partial<CocoonParams> = {}): CocoonParams {
  return {
    structVersion: 3,
    paramsVersion: 1,
    uniqueId: 1,
    isTest: true,
    pricePerToken: 20n,
    workerFeePerToken: 16n,
    promptTokensPriceMultiplier: 10000,
    cachedTokensPriceMultiplier: 10000,
    completionTokensPriceMultiplier: 10000,
    reasoningTokensPriceMultiplier: 10000,
    proxyDelayBeforeClose: 86400,
    clientDelayBeforeClose: 86400,
    minProxyStake: toNano('1'),
    minClientStake: toNano('1'),
    proxyScCode: null,
    workerScCode: null,
    clientScCode: null,
    ...overrides,
  };
}

export function storeParams(p: CocoonParams): (b: Builder) => void {
  return (b) => {
    b.storeUint(p.structVersion, 8)
      .storeUint(p.paramsVersion, 32)
      .storeUint(p.uniqueId, 32)
      .storeBit(p.isTest)
      .storeCoins(p.pricePerToken)
      .storeCoins(p.workerFeePerToken)
      .storeUint(p.promptTokensPriceMultiplier, 32)
      .storeUint(p.cachedTokensPriceMultiplier, 32)
      .storeUint(p.completionTokensPriceMultiplier, 32)
      .storeUint(p.reasoningTokensPriceMultiplier, 32)
      .storeUint(p.proxyDelayBeforeClose, 32)
      .storeUint(p.clientDelayBeforeClose, 32)
      .storeCoins(p.minProxyStake)
      .storeCoins(p.minClientStake)
      .storeMaybeRef(p.proxyScCode)
      .storeMaybeRef(p.workerScCode)
      .storeMaybeRef(p.clientScCode);
  };
}

/** Reads a params cell of struct version 0–3; older versions get the documented defaults. */
export function loadParams(s: Slice): CocoonParams {
  const structVersion = s.loadUint(8);
  if (structVersion > 3)
    throw new CocoonError('PARAMS_VERSION', `params struct version ${structVersion} is newer than 3`);
  const paramsVersion = s.loadUint(32);
  const uniqueId = s.loadUint(32);
  const isTest = s.loadBit();
  const pricePerToken = s.loadCoins();
  const workerFeePerToken = s.loadCoins();
  const promptTokensPriceMultiplier = structVersion >= 3 ? s.loadUint(32) : 10000;
  const cachedTokensPriceMultiplier = structVersion >= 2 ? s.loadUint(32) : 10000;
  const completionTokensPriceMultiplier = structVersion >= 3 ? s.loadUint(32) : 10000;
  const reasoningTokensPriceMultiplier = structVersion >= 2 ? s.loadUint(32) : 10000;
  const proxyDelayBeforeClose = s.loadUint(32);
  const clientDelayBeforeClose = s.loadUint(32);
  const minProxyStake = structVersion >= 1 ? s.loadCoins() : toNano('1');
  const minClientStake = structVersion >= 1 ? s.loadCoins() : toNano('1');
  return {
    structVersion,
    paramsVersion,
    uniqueId,
    isTest,
    pricePerToken,
    workerFeePerToken,
    promptTokensPriceMultiplier,
    cachedTokensPriceMultiplier,
    completionTokensPriceMultiplier,
    reasoningTokensPriceMultiplier,
    proxyDelayBeforeClose,
    clientDelayBeforeClose,
    minProxyStake,
    minClientStake,
    proxyScCode: s.loadMaybeRef(),
    workerScCode: s.loadMaybeRef(),
    clientScCode: s.loadMaybeRef(),
  };
}

/** A proxy's advertised addresses: for workers, and (optionally different) for clients. IPv4 `ip:port`. */
export interface ProxyAddress {
  workers: string;
  clients: string;
}

const IP_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

function checkIpPort(s: string): void {
  const m = IP_PORT.exec(s);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 65535 || Number(m[5]) === 0) {
    throw new CocoonError('PROXY_ADDRESS', `not an IPv4 ip:port: ${s}`);
  }
}

/** The on-chain proxy description: 1 bit type 0, 7 bits length, ASCII `ip:port` or `ip:port ip:port`. */
export function storeProxyAddress(a: ProxyAddress): (b: Builder) => void {
  checkIpPort(a.workers);
  checkIpPort(a.clients);
  const text = a.workers === a.clients ? a.workers : `${a.workers} ${a.clients}`;
  return (b) => b.storeUint(0, 1).storeUint(text.length, 7).storeBuffer(Buffer.from(text, 'latin1'));
}

export function loadProxyAddress(s: Slice): ProxyAddress {
  if (s.loadUint(1) !== 0) throw new CocoonError('PROXY_ADDRESS', 'unknown proxy address type');
  const len = s.loadUint(7);
  const text = s.loadBuffer(len).toString('latin1');
  const [workers, clients = workers] = text.split(' ') as [string, string?];
  return { workers, clients };
}

/** Model hash: SHA-256 of `NAME@COMMIT:VERITY_HASH` (cocoon-reference.md §9.1), as a 256-bit integer. */
export function modelHash(spec: string): bigint {
  return BigInt(`0x${createHash('sha256').update(spec).digest('hex')}`);
}

/** Dictionary values stored inline: nothing (a set of hashes), and proxy addresses. */
const EMPTY_VALUE: DictionaryValue<null> = { serialize: () => {}, parse: () => null };
const PROXY_VALUE: DictionaryValue<ProxyAddress> = {
  serialize: (v, b) => b.store(storeProxyAddress(v)),
  parse: (s) => loadProxyAddress(s),
};

export interface RootConfig {
  owner: Address;
  params: CocoonParams;
  version?: number;
}

export function rootConfigToCell(c: RootConfig): Cell {
  const data = beginCell()
    .storeDict(null) // proxy image hashes
    .storeDict(null) // registered proxies
    .storeUint(0, 32) // last proxy seqno
    .storeDict(null) // worker image hashes
    .storeDict(null) // model hashes
    .endCell();
  return beginCell()
    .storeAddress(c.owner)
    .storeUint(c.version ?? 0, 32)
    .storeRef(data)
    .storeRef(beginCell().store(storeParams(c.params)).endCell())
    .endCell();
}

/** Everything the root holds, read from its data cell. */
export interface RootState {
  owner: Address;
  version: number;
  proxyHashes: bigint[];
  workerHashes: bigint[];
  modelHashes: bigint[];
  proxies: Map<number, ProxyAddress>;
  lastProxySeqno: number;
  params: CocoonParams;
}

/** Decodes the root's data cell (as `getAddressInformation` returns it): one typed object. */
export function parseRootData(cell: Cell): RootState {
  const s = cell.beginParse();
  const owner = s.loadAddress();
  const version = s.loadUint(32);
  const d = s.loadRef().beginParse();
  const params = loadParams(s.loadRef().beginParse());
  const keys = (dict: Cell | null) =>
    dict ? Dictionary.loadDirect(Dictionary.Keys.BigUint(256), EMPTY_VALUE, dict).keys() : [];
  const proxyHashes = keys(d.loadMaybeRef());
  const registered = d.loadMaybeRef();
  const lastProxySeqno = d.loadUint(32);
  const workerHashes = keys(d.loadMaybeRef());
  const modelHashes = keys(d.loadMaybeRef());
  const proxies = new Map<number, ProxyAddress>();
  if (registered) {
    const dict = Dictionary.loadDirect(Dictionary.Keys.Uint(32), PROXY_VALUE, registered);
    for (const [k, v] of dict) proxies.set(k, v);
  }
  return { owner, version, proxyHashes, workerHashes, modelHashes, proxies, lastProxySeqno, params };
}

/**
 * @example
 * const root = blockchain.openContract(Root.createFromConfig({ owner, params: defaultParams() }, code));
 * await root.sendDeploy(owner.getSender(), toNano('1'));
 * await root.sendAddWorkerType(owner.getSender(), imageHash);
 */
export class Root extends CocoonContract {
  static createFromAddress(address: Address): Root {
    return new Root(address);
  }

  static createFromConfig(config: RootConfig, code: Cell, workchain = 0): Root {
    const { address, init } = fromStateInit(code, rootConfigToCell(config), workchain);
    return new Root(address, init);
  }

  sendDeploy(p: ContractProvider, via: Sender, value: bigint): Promise<void> {
    return this.deploy(p, via, value);
  }

  sendAddWorkerType(p: ContractProvider, via: Sender, hash: bigint) {
    return this.op(p, via, ROOT_OP.addWorkerType, (b) => b.storeUint(hash, 256));
  }
  sendDelWorkerType(p: ContractProvider, via: Sender, hash: bigint) {
    return this.op(p, via, ROOT_OP.delWorkerType, (b) => b.storeUint(hash, 256));
  }
  sendAddModelType(p: ContractProvider, via: Sender, hash: bigint) {
    return this.op(p, via, ROOT_OP.addModelType, (b) => b.storeUint(hash, 256));
  }
  sendDelModelType(p: ContractProvider, via: Sender, hash: bigint) {
    return this.op(p, via, ROOT_OP.delModelType, (b) => b.storeUint(hash, 256));
  }
  sendAddProxyType(p: ContractProvider, via: Sender, hash: bigint) {
    return this.op(p, via, ROOT_OP.addProxyType, (b) => b.storeUint(hash, 256));
  }
  sendDelProxyType(p: ContractProvider, via: Sender, hash: bigint) {
    return this.op(p, via, ROOT_OP.delProxyType, (b) => b.storeUint(hash, 256));
  }
  sendRegisterProxy(p: ContractProvider, via: Sender, addr: ProxyAddress) {
    return this.op(p, via, ROOT_OP.registerProxy, storeProxyAddress(addr));
  }
  sendUnregisterProxy(p: ContractProvider, via: Sender, seqno: number) {
    return this.op(p, via, ROOT_OP.unregisterProxy, (b) => b.storeUint(seqno, 32));
  }
  sendUpdateProxy(p: ContractProvider, via: Sender, seqno: number, addr: ProxyAddress) {
    return this.op(p, via, ROOT_OP.updateProxy, (b) => b.storeUint(seqno, 32).store(storeProxyAddress(addr)));
  }
  sendChangePrice(p: ContractProvider, via: Sender, pricePerToken: bigint, workerFeePerToken: bigint) {
    return this.op(p, via, ROOT_OP.changePrice, (b) =>
      b.storeCoins(pricePerToken).storeCoins(workerFeePerToken),
    );
  }
  sendChangeParams(
    p: ContractProvider,
    via: Sender,
    v: Pick<
      CocoonParams,
      | 'pricePerToken'
      | 'workerFeePerToken'
      | 'proxyDelayBeforeClose'
      | 'clientDelayBeforeClose'
      | 'minProxyStake'
      | 'minClientStake'
    >,
  ) {
    return this.op(p, via, ROOT_OP.changeParams, (b) =>
      b
        .storeCoins(v.pricePerToken)
        .storeCoins(v.workerFeePerToken)
        .storeUint(v.proxyDelayBeforeClose, 32)
        .storeUint(v.clientDelayBeforeClose, 32)
        .storeCoins(v.minProxyStake)
        .storeCoins(v.minClientStake),
    );
  }
  sendUpgradeContracts(p: ContractProvider, via: Sender, codes: { proxy: Cell; worker: Cell; client: Cell }) {
    return this.op(p, via, ROOT_OP.upgradeContracts, (b) =>
      b.storeRef(codes.proxy).storeRef(codes.worker).storeRef(codes.client),
    );
  }
  sendUpgrade(p: ContractProvider, via: Sender, code: Cell) {
    return this.op(p, via, ROOT_OP.upgrade, (b) => b.storeRef(code));
  }
  sendReset(p: ContractProvider, via: Sender) {
    return this.op(p, via, ROOT_OP.reset, () => {});
  }
  sendChangeOwner(p: ContractProvider, via: Sender, owner: Address) {
    return this.op(p, via, ROOT_OP.changeOwner, (b) => b.storeAddress(owner));
  }
  /** Any raw body, for tests of malformed messages. */
  sendRaw(p: ContractProvider, via: Sender, body: Cell, value = this.gas) {
    return this.message(p, via, body, value);
  }

  async getCocoonData(p: ContractProvider) {
    const { stack } = await p.get('get_cocoon_data', []);
    return {
      version: stack.readNumber(),
      lastProxySeqno: stack.readNumber(),
      paramsVersion: stack.readNumber(),
      uniqueId: stack.readNumber(),
      isTest: stack.readBoolean(),
      pricePerToken: stack.readBigNumber(),
      workerFeePerToken: stack.readBigNumber(),
      minProxyStake: stack.readBigNumber(),
      minClientStake: stack.readBigNumber(),
      owner: stack.readAddress(),
    };
  }

  private async flag(p: ContractProvider, method: string, hash: bigint): Promise<boolean> {
    const { stack } = await p.get(method, [{ type: 'int', value: hash }]);
    return stack.readBoolean();
  }
  getProxyHashIsValid(p: ContractProvider, hash: bigint) {
    return this.flag(p, 'proxy_hash_is_valid', hash);
  }
  getWorkerHashIsValid(p: ContractProvider, hash: bigint) {
    return this.flag(p, 'worker_hash_is_valid', hash);
  }
  getModelHashIsValid(p: ContractProvider, hash: bigint) {
    return this.flag(p, 'model_hash_is_valid', hash);
  }
  async getLastProxySeqno(p: ContractProvider): Promise<number> {
    return (await p.get('last_proxy_seqno', [])).stack.readNumber();
  }
  async getCurParams(p: ContractProvider) {
    const { stack } = await p.get('get_cur_params', []);
    return {
      paramsVersion: stack.readNumber(),
      uniqueId: stack.readNumber(),
      isTest: stack.readBoolean(),
      pricePerToken: stack.readBigNumber(),
      workerFeePerToken: stack.readBigNumber(),
      cachedTokensPriceMultiplier: stack.readNumber(),
      reasoningTokensPriceMultiplier: stack.readNumber(),
      proxyDelayBeforeClose: stack.readNumber(),
      clientDelayBeforeClose: stack.readNumber(),
      minProxyStake: stack.readBigNumber(),
      minClientStake: stack.readBigNumber(),
      proxyScHash: stack.readBigNumber(),
      workerScHash: stack.readBigNumber(),
      clientScHash: stack.readBigNumber(),
    };
  }
  async getParams(p: ContractProvider): Promise<CocoonParams> {
    return loadParams((await p.get('get_params_cell', [])).stack.readCell().beginParse());
  }
  /** The whole registry in one typed object, from the account's data. */
  async getState(p: ContractProvider): Promise<RootState> {
    const st = await p.getState();
    if (st.state.type !== 'active' || !st.state.data)
      throw new CocoonError('ROOT_NOT_ACTIVE', 'the root contract is not deployed');
    return parseRootData(Cell.fromBoc(Buffer.from(st.state.data))[0] as Cell);
  }
}
