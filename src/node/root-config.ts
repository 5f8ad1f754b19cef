// What every runner needs from the root: registered proxies, allowed image and model hashes, and the network
// parameters — read from the root contract on the chain, or, for offline networks and tests, from a JSON file.

import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Address, Cell, toNano } from '@ton/core';
import type { TonClient } from '@ton/ton';
import { withRetry } from '../chain/client.ts';
import { type CocoonParams, defaultParams, type ProxyAddress, Root } from '../chain/root.ts';
import { CocoonError } from '../errors.ts';

export interface RootConfig {
  version: number;
  params: CocoonParams;
  proxies: { seqno: number; address: ProxyAddress }[];
  /** Lower-case hex, 64 digits each. */
  proxyHashes: string[];
  workerHashes: string[];
  modelHashes: string[];
  source: 'chain' | 'file';
  /** The root contract's address (chain mode), from which contract addresses are derived. */
  rootAddress?: string;
}

const hex = (n: bigint) => n.toString(16).padStart(64, '0');

/** Reads the root contract through any TonClient (devnet or testnet). */
export async function rootConfigFromChain(client: TonClient, address: Address): Promise<RootConfig> {
  const st = await withRetry(() => client.open(Root.createFromAddress(address)).getState());
  return {
    version: st.version,
    params: st.params,
    proxies: [...st.proxies].map(([seqno, a]) => ({ seqno, address: a })),
    proxyHashes: st.proxyHashes.map(hex),
    workerHashes: st.workerHashes.map(hex),
    modelHashes: st.modelHashes.map(hex),
    source: 'chain',
    rootAddress: address.toString(),
  };
}

const bad = (d: string) => new CocoonError('ROOT_CONFIG', d);

function hashes(v: unknown, name: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((h) => typeof h !== 'string' || !/^[0-9a-fA-F]{64}$/.test(h))) {
    throw bad(`${name} must be a list of 64-digit hex hashes`);
  }
  return v.map((h) => String(h).toLowerCase());
}

/**
 * A root config from JSON (the offline "fake TON" mode): `{ version?, params?: {...}, proxies: [{ workers,
 * clients? }], proxy_hashes?, worker_hashes?, model_hashes? }`. Money in params is nanoTON as decimal strings or
 * integers; missing params take the test defaults.
 *
 * @example
 * const cfg = rootConfigFromJson(readFileSync('root.json', 'utf8'));
 */
export function rootConfigFromJson(text: string): RootConfig {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('not a JSON object');
  const p = (o.params ?? {}) as Record<string, unknown>;
  const coins = (k: string, d: bigint) => {
    const v = p[k];
    if (v === undefined) return d;
    if (
      (typeof v === 'string' && /^\d+$/.test(v)) ||
      (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)
    )
      return BigInt(v);
    throw bad(`params.${k} must be a non-negative integer (nanoTON)`);
  };
  const u32 = (k: string, d: number) => {
    const v = p[k];
    if (v === undefined) return d;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff) return v;
    throw bad(`params.${k} must be a 32-bit unsigned integer`);
  };
  const base = defaultParams();
  const params: CocoonParams = {
    ...base,
    paramsVersion: u32('params_version', base.paramsVersion),
    uniqueId: u32('unique_id', base.uniqueId),
    isTest: p.is_test === undefined ? true : p.is_test === true,
    pricePerToken: coins('price_per_token', base.pricePerToken),
    workerFeePerToken: coins('worker_fee_per_token', base.workerFeePerToken),
    promptTokensPriceMultiplier: u32('prompt_tokens_price_multiplier', 10000),
    cachedTokensPriceMultiplier: u32('cached_tokens_price_multiplier', 10000),
    completionTokensPriceMultiplier: u32('completion_tokens_price_multiplier', 10000),
    reasoningTokensPriceMultiplier: u32('reasoning_tokens_price_multiplier', 10000),
    proxyDelayBeforeClose: u32('proxy_delay_before_close', base.proxyDelayBeforeClose),
    clientDelayBeforeClose: u32('client_delay_before_close', base.clientDelayBeforeClose),
    minProxyStake: coins('min_proxy_stake', toNano('1')),
    minClientStake: coins('min_client_stake', toNano('1')),
  };
  if (params.workerFeePerToken > params.pricePerToken) throw bad('the worker fee cannot exceed the price');
  // Contract codes (hex BOC, as the reference's pseudo config) and the root address let nodes derive contract
  // addresses and sign payments for them without a chain.
  const code = (k: string) => {
    const v = o[k];
    if (v === undefined) return null;
    try {
      if (typeof v !== 'string') throw new Error();
      return Cell.fromBoc(Buffer.from(v, 'hex'))[0] ?? null;
    } catch {
      throw bad(`${k} must be a hex BOC`);
    }
  };
  params.proxyScCode = code('proxy_sc_code');
  params.workerScCode = code('worker_sc_code');
  params.clientScCode = code('client_sc_code');
  let rootAddress: string | undefined;
  if (o.root_address !== undefined) {
    try {
      rootAddress = Address.parse(String(o.root_address)).toString();
    } catch {
      throw bad('root_address must be a TON address');
    }
  }
  const list = o.proxies ?? [];
  if (!Array.isArray(list)) throw bad('proxies must be a list');
  const ipPort = /^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$|^localhost:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;
  const proxies = list.map((e, i) => {
    const x = (e ?? {}) as { workers?: unknown; clients?: unknown };
    if (typeof x.workers !== 'string' || !ipPort.test(x.workers))
      throw bad(`proxies[${i}].workers must be host:port`);
    const clients = x.clients === undefined ? x.workers : x.clients;
    if (typeof clients !== 'string' || !ipPort.test(clients))
      throw bad(`proxies[${i}].clients must be host:port`);
    return { seqno: i + 1, address: { workers: x.workers, clients } };
  });
  const version = o.version === undefined ? 1 : Number(o.version);
  if (!Number.isSafeInteger(version) || version < 0) throw bad('version must be a non-negative integer');
  return {
    version,
    params,
    proxies,
    proxyHashes: hashes(o.proxy_hashes, 'proxy_hashes'),
    workerHashes: hashes(o.worker_hashes, 'worker_hashes'),
    modelHashes: hashes(o.model_hashes, 'model_hashes'),
    source: 'file',
    ...(rootAddress ? { rootAddress } : {}),
  };
}

export function rootConfigFromFile(path: string): RootConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw bad(`cannot read ${path}`);
  }
  return rootConfigFromJson(text);
}

/**
 * The root config a runner works with, refreshed every `intervalMs` (default 30 s, as the reference's 30–60 s).
 * Only a higher `version` replaces the current one; `update` fires when it does.
 *
 * @example
 * const root = new RootWatcher(await load(), load); root.start(); root.on('update', (c) => …);
 */
export class RootWatcher extends EventEmitter<{ update: [RootConfig]; error: [unknown] }> {
  private timer: NodeJS.Timeout | undefined;
  lastRefreshAt = Date.now();
  lastError: unknown;

  constructor(
    private config: RootConfig,
    private readonly load?: () => Promise<RootConfig>,
    private readonly intervalMs = 30_000,
  ) {
    super();
  }

  get current(): RootConfig {
    return this.config;
  }

  /** Replaces the config if `next` is newer (or forced, for tests and file reloads). */
  set(next: RootConfig, force = false): void {
    if (!force && next.version <= this.config.version) return;
    this.config = next;
    this.emit('update', next);
  }

  async refresh(): Promise<void> {
    if (!this.load) return;
    try {
      this.set(await this.load());
      this.lastRefreshAt = Date.now();
    } catch (err) {
      this.lastError = err;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
  }

  start(): void {
    if (!this.load || this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.intervalMs).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
