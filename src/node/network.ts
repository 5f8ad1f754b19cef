// A whole Cocoon network in one process: a proxy, N workers, a client and its OpenAI API, all over real RA-TLS
// sockets on loopback. `cocoon up` runs it on the devnet's root contract; tests and `cocoon bench e2e` run it
// on a root config in memory (the reference's fake-TON mode).

import { createHash, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Cell } from '@ton/core';
import { compileContract } from '../chain/compile.ts';
import { defaultParams } from '../chain/root.ts';
import type { InferenceEngine } from '../openai/engine.ts';
import { Store } from '../store/store.ts';
import type { QuoteSource } from '../tee/cert.ts';
import { FAKE_TDX_IMAGE_HASH } from '../tee/fake-tdx.ts';
import type { AttestationPolicy } from '../tee/policy.ts';
import type { ChainAgent } from './chain-agent.ts';
import { clientApi, listenApi } from './client/api.ts';
import { ClientNode } from './client/client.ts';
import { createNodeIdentity, type NodeIdentity, type TeeMode } from './identity.ts';
import type { Logger } from './log.ts';
import { type ClientFunds, ProxyNode } from './proxy/proxy.ts';
import { type RootConfig, RootWatcher } from './root-config.ts';
import { WorkerNode } from './worker/node.ts';

export interface LocalWorker {
  engine: InferenceEngine;
  /** Model spec; default the engine's first model. */
  model?: string;
  coefficient?: number;
  maxActiveRequests?: number;
  /** Engine health check period (default 2 s). */
  healthIntervalMs?: number;
}

export interface LocalNetworkOptions {
  workers: LocalWorker[];
  /** Quotes nodes present (default `fake_tdx`: forgeable, local networks only). */
  tee?: TeeMode;
  /**
   * Instead of `tee`: where each node's quote comes from, the policy every node applies to its peers, and the
   * image hashes the root allows (a test PKI with workers at different TCB levels, say).
   */
  attestation?: {
    source: (role: 'proxy' | 'client' | 'worker', index: number) => QuoteSource;
    policy: AttestationPolicy;
    images: string[];
  };
  host?: string;
  /** 0 (default) picks free ports. */
  ports?: {
    api?: number;
    proxyWorkers?: number;
    proxyClients?: number;
    proxyStats?: number;
    workerStats?: number;
  };
  /**
   * The root the nodes read. Called once the proxy listens, with its two addresses (workers, clients) and the
   * hashes a local network allows; default: a root config in memory.
   */
  root?: (
    proxy: { workers: string; clients: string },
    allow: { images: string[]; models: string[] },
  ) => Promise<RootWatcher>;
  apiKey?: string;
  accessToken?: string;
  clientFunds?: (owner: string) => ClientFunds;
  clientOwner?: string;
  proxyOwner?: string;
  workerOwner?: (i: number) => string;
  /** Node keys to keep identities (and contract addresses) across restarts; default fresh ones. */
  keys?: { proxy?: KeyObject; client?: KeyObject; worker?: (i: number) => KeyObject };
  /**
   * Give the in-memory root the contract codes and a root address, so every node derives the contract addresses
   * and payments are signed for them (default: no contracts, the reference's fake-TON mode).
   */
  contracts?: boolean;
  /** Where the proxy keeps its books (an LMDB directory); default: nowhere (lost on restart). */
  proxyStorePath?: string;
  /** Structured logs of each node (default none). */
  logger?: (role: 'proxy' | 'worker' | 'client', index?: number) => Logger;
  /** See ClientApiOptions.maxAppBuffer. */
  maxAppBuffer?: number;
  /** See ProxyNodeOptions.warmupMs. */
  proxyWarmupMs?: number;
  /**
   * The chain every node acts on (one wallet for all of them in a local network: its owner owns every node).
   * Needs a root with contract codes (`root` from the devnet).
   */
  chain?: ChainAgent;
  /** Settlement thresholds in nanoTON (default 1 TON each). */
  chargeThreshold?: bigint;
  payoutThreshold?: bigint;
  /** Where the client and the workers keep their signed payments (LMDB directories under it). */
  nodeStoreDir?: string;
  /** Receipts the client's store keeps (with `nodeStoreDir`; default the client's). */
  keepReceipts?: number;
  /** PoW bits the proxy demands (default 20; tests use fewer). */
  powDifficulty?: number;
  log?: (line: string) => void;
}

export interface LocalNetwork {
  root: RootWatcher;
  proxy: ProxyNode;
  workers: WorkerNode[];
  client: ClientNode;
  api: Server;
  /** `http://host:port/v1` */
  apiUrl: string;
  identities: { proxy: NodeIdentity; workers: NodeIdentity[]; client: NodeIdentity };
  /** Stops the proxy and starts it again on the same ports with the same identity (its state is lost). */
  restartProxy(): Promise<void>;
  close(): Promise<void>;
}

// Placeholder owners for a local network without wallets (raw addresses of recognisable hashes).
const owner = (label: string) => `0:${createHash('sha256').update(label).digest('hex')}`;

/** A root config for a local network: test params, the proxy's addresses, the allowed hashes. */
export function localRootConfig(
  proxy: { workers: string; clients: string },
  allow: { images: string[]; models: string[] },
): RootConfig {
  return {
    version: 1,
    params: defaultParams(),
    proxies: [{ seqno: 1, address: proxy }],
    proxyHashes: allow.images,
    workerHashes: allow.images,
    modelHashes: allow.models,
    source: 'file',
  };
}

let codes: Promise<[Cell, Cell, Cell]> | undefined;

/** A root config with the proxy, worker and client codes and a (local) root address. */
export async function withContracts(cfg: RootConfig): Promise<RootConfig> {
  codes ??= Promise.all([compileContract('proxy'), compileContract('worker'), compileContract('client')]);
  const [proxyScCode, workerScCode, clientScCode] = await codes;
  return {
    ...cfg,
    params: { ...cfg.params, proxyScCode, workerScCode, clientScCode },
    rootAddress: `0:${createHash('sha256').update('local root').digest('hex')}`,
  };
}

/**
 * Starts a network; resolves once the client has a ready proxy and every worker is connected.
 *
 * @example
 * const net = await startLocalNetwork({ workers: [{ engine }] });
 * await fetch(`${net.apiUrl}/models`);
 * await net.close();
 */
export async function startLocalNetwork(opts: LocalNetworkOptions): Promise<LocalNetwork> {
  const host = opts.host ?? '127.0.0.1';
  const ports = opts.ports ?? {};
  const at = opts.attestation;
  const policy: AttestationPolicy | TeeMode = at?.policy ?? opts.tee ?? 'fake_tdx';
  const id = (privateKey: KeyObject | undefined, role: 'proxy' | 'client' | 'worker', i = 0) => {
    const tee = at ? at.source(role, i) : (opts.tee ?? 'fake_tdx');
    return createNodeIdentity(privateKey ? { tee, privateKey } : { tee });
  };
  const [proxyId, clientId, ...workerIds] = await Promise.all([
    id(opts.keys?.proxy, 'proxy'),
    id(opts.keys?.client, 'client'),
    ...opts.workers.map((_, i) => id(opts.keys?.worker?.(i), 'worker', i)),
  ]);
  if (!proxyId || !clientId) throw new Error('unreachable');
  const models = await Promise.all(
    opts.workers.map(async (w) => w.model ?? (await w.engine.health()).models[0] ?? 'model'),
  );
  const allow = {
    images: at?.images ?? [FAKE_TDX_IMAGE_HASH],
    models: [...new Set(models)].map((m) => createHash('sha256').update(m).digest('hex')),
  };
  // The proxy starts on a placeholder root; the real one (with its own addresses) replaces it below.
  const placeholder = new RootWatcher(localRootConfig({ workers: '', clients: '' }, allow));
  const proxyOpts: ConstructorParameters<typeof ProxyNode>[0] = {
    root: placeholder,
    identity: proxyId,
    ownerAddress: opts.proxyOwner ?? owner('proxy owner'),
    workerPolicy: policy,
    clientPolicy: 'any',
    host,
    workerPort: ports.proxyWorkers ?? 0,
    clientPort: ports.proxyClients ?? 0,
  };
  if (ports.proxyStats !== undefined) proxyOpts.statsPort = ports.proxyStats;
  if (opts.accessToken) proxyOpts.accessToken = opts.accessToken;
  if (opts.clientFunds) proxyOpts.clientFunds = opts.clientFunds;
  if (opts.powDifficulty !== undefined) proxyOpts.powDifficulty = opts.powDifficulty;
  if (opts.chain) proxyOpts.chain = opts.chain;
  if (opts.proxyWarmupMs !== undefined) proxyOpts.warmupMs = opts.proxyWarmupMs;
  if (opts.logger) proxyOpts.logger = opts.logger('proxy');
  if (opts.chargeThreshold !== undefined) proxyOpts.chargeThreshold = opts.chargeThreshold;
  const proxyStore = opts.proxyStorePath ? Store.open(opts.proxyStorePath) : undefined;
  if (proxyStore) proxyOpts.store = proxyStore;
  if (opts.log) proxyOpts.log = opts.log;
  // With the chain the proxy deploys its contract on start, which needs the real root: it starts once that exists.
  let proxy = new ProxyNode(opts.chain ? { ...proxyOpts, chain: undefined as never } : proxyOpts);
  await proxy.start();
  const addresses = { workers: `${host}:${proxy.ports.workers}`, clients: `${host}:${proxy.ports.clients}` };
  const root = opts.root
    ? await opts.root(addresses, allow)
    : new RootWatcher(
        opts.contracts
          ? await withContracts(localRootConfig(addresses, allow))
          : localRootConfig(addresses, allow),
      );
  placeholder.set(root.current, true);
  root.on('update', (c) => placeholder.set(c, true));
  if (opts.chain) {
    // Again, now with the chain and the root it published: the contract is deployed and staked before serving.
    const ports = proxy.ports;
    await proxy.close();
    proxyOpts.workerPort = ports.workers;
    proxyOpts.clientPort = ports.clients;
    if (proxyOpts.statsPort !== undefined) proxyOpts.statsPort = ports.stats;
    proxy = new ProxyNode(proxyOpts);
    await proxy.start();
  }

  const stores: Store[] = [];
  const storeFor = (name: string) => {
    if (!opts.nodeStoreDir) return undefined;
    const st = Store.open(join(opts.nodeStoreDir, name));
    stores.push(st);
    return st;
  };
  const workers = opts.workers.map((w, i) => {
    const o: ConstructorParameters<typeof WorkerNode>[0] = {
      root,
      identity: workerIds[i] as NodeIdentity,
      engine: w.engine,
      model: models[i] as string,
      ownerAddress: opts.workerOwner?.(i) ?? owner(`worker owner ${i}`),
      proxyPolicy: policy,
    };
    if (w.coefficient !== undefined) o.coefficient = w.coefficient;
    if (w.maxActiveRequests !== undefined) o.maxActiveRequests = w.maxActiveRequests;
    if (w.healthIntervalMs !== undefined) o.healthIntervalMs = w.healthIntervalMs;
    const st = storeFor(`worker-${i}-db`);
    if (st) o.store = st;
    if (i === 0 && ports.workerStats !== undefined) o.statsPort = ports.workerStats;
    if (opts.chain) o.chain = opts.chain;
    if (opts.logger) o.logger = opts.logger('worker', i);
    if (opts.payoutThreshold !== undefined) o.payoutThreshold = opts.payoutThreshold;
    if (opts.accessToken) o.accessToken = opts.accessToken;
    if (opts.log) o.log = opts.log;
    return new WorkerNode(o);
  });
  const clientOpts: ConstructorParameters<typeof ClientNode>[0] = {
    root,
    identity: clientId,
    ownerAddress: opts.clientOwner ?? owner('client owner'),
    proxyPolicy: policy,
  };
  if (opts.log) clientOpts.log = opts.log;
  if (opts.chain) clientOpts.chain = opts.chain;
  if (opts.logger) clientOpts.logger = opts.logger('client');
  const clientStore = storeFor('client-db');
  if (clientStore) clientOpts.store = clientStore;
  if (opts.keepReceipts !== undefined) clientOpts.keepReceipts = opts.keepReceipts;
  const client = new ClientNode(clientOpts);
  const apiOpts: Parameters<typeof clientApi>[0] = {
    node: client,
    // The client's dashboard shows the whole network: it reads the proxy's and the first worker's stats too.
    dashboardNodes: () => ({
      client: '',
      ...(network.proxy.ports.stats ? { proxy: `http://${host}:${network.proxy.ports.stats}` } : {}),
      ...(workers[0]?.statsPort ? { worker: `http://${host}:${workers[0].statsPort}` } : {}),
    }),
  };
  if (opts.apiKey) apiOpts.apiKey = opts.apiKey;
  if (opts.maxAppBuffer !== undefined) apiOpts.maxAppBuffer = opts.maxAppBuffer;
  if (opts.accessToken) apiOpts.accessToken = opts.accessToken;
  const api = clientApi(apiOpts);
  const ids = [proxyId, clientId, ...workerIds];
  const restartProxy = async () => {
    const ports = proxy.ports;
    await proxy.close();
    const o = { ...proxyOpts, workerPort: ports.workers, clientPort: ports.clients };
    if (proxyOpts.statsPort !== undefined) o.statsPort = ports.stats;
    proxy = new ProxyNode(o);
    await proxy.start();
    network.proxy = proxy;
  };
  const network: LocalNetwork = {
    root,
    proxy,
    workers,
    client,
    api,
    apiUrl: '',
    identities: { proxy: proxyId, workers: workerIds as NodeIdentity[], client: clientId },
    restartProxy: () => restartProxy(),
    close: () => close(),
  };
  const close = async () => {
    api.closeAllConnections();
    await new Promise<void>((r) => api.close(() => r()));
    client.close();
    await Promise.all(workers.map((w) => w.close()));
    await network.proxy.close();
    await proxyStore?.close();
    for (const st of stores) await st.close();
    root.close();
    for (const id of ids) id.refresher.close();
  };
  try {
    await Promise.all(workers.map((w) => w.start()));
    client.start();
    const port = await listenApi(api, ports.api ?? 0, host);
    await Promise.all([client.waitReady(30_000), ...workers.map((w) => w.waitReady(30_000))]);
    network.apiUrl = `http://${host}:${port}/v1`;
    return network;
  } catch (err) {
    await close();
    throw err;
  }
}
