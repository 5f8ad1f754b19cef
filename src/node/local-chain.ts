// The chain side of a local network: an operator wallet funded from the devnet faucet, a root contract with the
// proxy, worker and client contract codes, the proxy registered at its addresses, and the image and model hashes
// the local nodes present. Everything is kept in a directory so a second start resumes it.

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Address, beginCell, type OpenedContract, SendMode, toNano } from '@ton/core';
import type { TonClient } from '@ton/ton';
import {
  devnetFund,
  newMnemonic,
  type OperatorWallet,
  sendFromWallet,
  waitFor,
  walletFromMnemonic,
  withRetry,
} from '../chain/client.ts';
import { compileContract } from '../chain/compile.ts';
import { defaultParams, Root } from '../chain/root.ts';
import { generateEd25519 } from '../tee/cert.ts';
import { RootWatcher, rootConfigFromChain } from './root-config.ts';

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

function writeJson(file: string, v: unknown, secret = false): void {
  writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`, secret ? { mode: 0o600 } : {});
}

/** A node key kept in `dir/keys/NAME.pem` (made on first use), so identities and addresses survive restarts. */
export function nodeKey(dir: string, name: string): KeyObject {
  const keys = join(dir, 'keys');
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  const file = join(keys, `${name}.pem`);
  if (existsSync(file)) return createPrivateKey(readFileSync(file, 'utf8'));
  const key = generateEd25519();
  writeFileSync(file, key.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  return key;
}

/** The operator wallet of `dir` (made on first use), topped up from the devnet faucet. */
export async function localWallet(
  client: TonClient,
  endpoint: string,
  dir: string,
  minBalance = toNano('100'),
): Promise<OperatorWallet> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'wallet.json');
  let saved = readJson<{ mnemonic: string[] }>(file);
  if (!saved) {
    saved = { mnemonic: await newMnemonic() };
    writeJson(file, saved, true);
  }
  const w = await walletFromMnemonic(saved.mnemonic);
  // A devnet's clock can be moved forward (close delays): transfers must be valid by its time, not this machine's.
  w.chainTime = async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'devnet_info', params: {} }),
    });
    const body = (await res.json()) as { ok: boolean; result?: { now?: number } };
    return body.result?.now ?? Math.floor(Date.now() / 1000);
  };
  const balance = await withRetry(() => client.getBalance(w.contract.address));
  if (balance < minBalance) {
    await devnetFund(endpoint, w.contract.address, toNano('1000'));
    await waitFor(
      'the faucet',
      () => client.getBalance(w.contract.address),
      (b) => b >= minBalance,
    );
  }
  return w;
}

export interface LocalRootOptions {
  client: TonClient;
  wallet: OperatorWallet;
  dir: string;
  proxy: { workers: string; clients: string };
  allow: { images: string[]; models: string[] };
  log?: (line: string) => void;
}

/**
 * Deploys (or finds) the local root and brings it up to date: proxy registered at its current addresses, the
 * local image and model hashes allowed. Returns a watcher that re-reads the root every few seconds.
 */
export async function localRoot(o: LocalRootOptions): Promise<RootWatcher> {
  const { client, wallet } = o;
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const file = join(o.dir, 'root.json');
  const saved = readJson<{ address: string }>(file);
  let root: OpenedContract<Root>;
  if (saved && (await withRetry(() => client.isContractDeployed(Address.parse(saved.address))))) {
    root = client.open(Root.createFromAddress(Address.parse(saved.address)));
  } else {
    o.log?.('deploying the root contract (compiling the contracts first)');
    const [rootCode, proxyScCode, workerScCode, clientScCode] = await Promise.all([
      compileContract('root'),
      compileContract('proxy'),
      compileContract('worker'),
      compileContract('client'),
    ]);
    const params = defaultParams({
      uniqueId: Math.floor(Math.random() * 2 ** 31),
      proxyScCode,
      workerScCode,
      clientScCode,
    });
    root = client.open(Root.createFromConfig({ owner: wallet.contract.address, params }, rootCode));
    const r = root;
    await sendFromWallet(client, wallet, (sender) =>
      sender.send({
        to: r.address,
        value: toNano('1'),
        init: r.init,
        body: beginCell().endCell(),
        sendMode: SendMode.PAY_GAS_SEPARATELY,
      }),
    );
    await waitFor(
      'the root deployment',
      () => client.isContractDeployed(r.address),
      (d) => d,
    );
    writeJson(file, { address: r.address.toString() });
  }
  const r = root;
  const update = async (what: string, send: Parameters<typeof sendFromWallet>[2]) => {
    const before = (await withRetry(() => r.getCocoonData())).version;
    o.log?.(what);
    await sendFromWallet(client, wallet, send);
    await waitFor(
      what,
      () => r.getCocoonData(),
      (d) => d.version > before,
    );
  };
  const st = await withRetry(() => r.getState());
  const hex = (x: bigint) => x.toString(16).padStart(64, '0');
  for (const img of o.allow.images) {
    if (!st.proxyHashes.map(hex).includes(img)) {
      await update('allowing the proxy image', (s) => r.sendAddProxyType(s, BigInt(`0x${img}`)));
    }
    if (!st.workerHashes.map(hex).includes(img)) {
      await update('allowing the worker image', (s) => r.sendAddWorkerType(s, BigInt(`0x${img}`)));
    }
  }
  for (const m of o.allow.models) {
    if (!st.modelHashes.map(hex).includes(m)) {
      await update('allowing a model', (s) => r.sendAddModelType(s, BigInt(`0x${m}`)));
    }
  }
  const registered = [...st.proxies];
  const mine = registered.find(([, a]) => a.workers === o.proxy.workers && a.clients === o.proxy.clients);
  if (!mine) {
    const first = registered[0];
    if (first) {
      await update(`moving the proxy to ${o.proxy.workers}`, (s) => r.sendUpdateProxy(s, first[0], o.proxy));
    } else {
      await update(`registering the proxy at ${o.proxy.workers}`, (s) => r.sendRegisterProxy(s, o.proxy));
    }
  }
  const load = () => rootConfigFromChain(client, r.address);
  return new RootWatcher(await load(), load, 5_000);
}
