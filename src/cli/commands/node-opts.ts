// What the three runner commands share: where the root config comes from (a JSON file, or the root contract
// through a toncenter endpoint), the node's key in its state directory, and the attestation policy for peers.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Address } from '@ton/core';
import { openClient } from '../../chain/client.ts';
import { CocoonError } from '../../errors.ts';
import { ChainAgent } from '../../node/chain-agent.ts';
import { createNodeIdentity, type NodeIdentity, type TeeMode } from '../../node/identity.ts';
import { nodeKey } from '../../node/local-chain.ts';
import { type Logger, nodeLogger } from '../../node/log.ts';
import { RootWatcher, rootConfigFromChain, rootConfigFromFile } from '../../node/root-config.ts';
import { fetchCollateral } from '../../tee/collateral.ts';
import type { AttestationPolicy } from '../../tee/policy.ts';
import { loadWallet } from './chain-opts.ts';

export const nodeOptions = {
  dir: { type: 'string' },
  'root-config': { type: 'string' },
  root: { type: 'string' },
  endpoint: { type: 'string' },
  'api-key': { type: 'string' },
  tee: { type: 'string' },
  'peer-policy': { type: 'string' },
  pccs: { type: 'string' },
  host: { type: 'string' },
  owner: { type: 'string' },
  'access-token': { type: 'string' },
  wallet: { type: 'string' },
  'log-level': { type: 'string' },
  'no-hash-check': { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

export const nodeUsage = [
  'Configuration: --config FILE (or COCOON_CONFIG), a JSON-with-comments file (cocoon init ROLE writes one);',
  "every flag also reads COCOON_<KEY> (see the README's configuration reference). Flags win.",
  'Root config (one of):',
  '  --root-config FILE   a JSON root config (proxies, hashes, params): an offline network',
  '  --root ADDRESS       the root contract (default: DIR/root.json), read through --endpoint',
  '  --endpoint URL       toncenter-v2 JSON-RPC (default the devnet, http://127.0.0.1:8081/jsonRPC)',
  '  --api-key K          toncenter API key',
  'Attestation:',
  "  --tee fake_tdx|tdx   where this node's quote comes from (default tdx: configfs-tsm on a TDX guest)",
  '  --peer-policy P      what peers must present: tdx (default; DCAP-verified) or fake_tdx (local tests only)',
  '  --pccs URL           PCCS to fetch DCAP collateral from (policy tdx)',
  '  --no-hash-check      do not check peer image and model hashes against the root (test networks only)',
  'Node:',
  '  --dir DIR            state directory: keys, state (default .cocoon)',
  '  --host H             address to bind (default 127.0.0.1)',
  "  --owner ADDRESS      TON address that owns this node (default: the wallet's)",
  "  --wallet FILE        the wallet that pays for this node's contracts, stakes, top-ups and settlements",
  '                       (with --root: the money loop runs on the chain; cocoon wallet new makes one)',
  '  --access-token T     token for /stats, /jsonstats and /request/* (default: open, loopback only)',
  '  --log-level L        JSON logs on stderr: fatal|error|warn|info|debug|trace|silent (default info,',
  '                       or COCOON_LOG_LEVEL); every request with its ids across client, proxy and worker',
  '  --verbose            also print connections and failures as plain lines',
].join('\n');

type Values = {
  [K in keyof typeof nodeOptions]?: (typeof nodeOptions)[K]['type'] extends 'boolean' ? boolean : string;
};

/** The root config source the flags name, started (polled) when it is the chain. */
export async function rootFrom(v: Values): Promise<RootWatcher> {
  const file = v['root-config'];
  if (file) {
    const load = async () => rootConfigFromFile(file);
    const w = new RootWatcher(await load(), load, 30_000);
    w.start();
    return w;
  }
  const dir = v.dir ?? '.cocoon';
  let address = v.root;
  if (!address) {
    try {
      address = (JSON.parse(readFileSync(join(dir, 'root.json'), 'utf8')) as { address: string }).address;
    } catch {
      throw new CocoonError('NO_ROOT', `no --root-config, no --root and no ${join(dir, 'root.json')}`);
    }
  }
  const chain: Parameters<typeof openClient>[0] = {};
  if (v.endpoint) chain.endpoint = v.endpoint;
  if (v['api-key']) chain.apiKey = v['api-key'];
  const client = openClient(chain);
  const root = Address.parse(address);
  const load = () => rootConfigFromChain(client, root);
  const w = new RootWatcher(await load(), load, 30_000);
  w.start();
  return w;
}

export function teeOf(v: Values): TeeMode {
  const t = v.tee ?? 'tdx';
  if (t !== 'tdx' && t !== 'fake_tdx') throw new TypeError('--tee must be tdx or fake_tdx');
  return t;
}

export function peerPolicy(v: Values): AttestationPolicy {
  const p = v['peer-policy'] ?? 'tdx';
  if (p === 'fake_tdx') return { kind: 'fake_tdx' };
  if (p !== 'tdx') throw new TypeError('--peer-policy must be tdx or fake_tdx');
  const pccs = v.pccs;
  return {
    kind: 'tdx',
    collateral: (quote) => {
      if (!pccs)
        throw new CocoonError('NO_COLLATERAL', 'policy tdx needs --pccs URL to fetch DCAP collateral');
      return fetchCollateral(pccs, quote);
    },
  };
}

/** The node's identity, with its key kept in DIR/keys/NAME.pem. */
export async function identityOf(v: Values, name: string): Promise<NodeIdentity> {
  const dir = v.dir ?? '.cocoon';
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return createNodeIdentity({ tee: teeOf(v), privateKey: nodeKey(dir, name) });
}

export function portOf(v: string | undefined, d: number, name: string): number {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535) throw new TypeError(`--${name} must be a port number`);
  return n;
}

/** Resolves on SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export const logTo = (v: Values) => (v.verbose ? (l: string) => process.stderr.write(`${l}\n`) : undefined);

/** A placeholder owner from a label, for nodes started without --owner on test networks. */
export function ownerOf(v: Values, id: NodeIdentity, chain?: ChainAgent): string {
  if (v.owner) {
    Address.parse(v.owner);
    return v.owner;
  }
  if (chain) return chain.address.toString();
  return `0:${Buffer.from(id.publicKey).toString('hex')}`;
}

/** Records where a running node answers (DIR/nodes.json), for the status commands. */
export function recordNode(dir: string, role: 'client' | 'proxy' | 'worker', url: string): void {
  const file = join(dir, 'nodes.json');
  let nodes: Record<string, string> = {};
  try {
    nodes = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    nodes = {};
  }
  nodes[role] = url;
  writeFileSync(file, `${JSON.stringify(nodes, null, 2)}\n`);
}

/**
 * Asks the running node of DIR (`cocoon up` or a runner) over its stats port: GET /jsonstats, or POST a
 * /request/… action. The access token comes from --access-token or DIR/access-token.
 */
export async function askNode(
  dir: string,
  role: 'client' | 'proxy' | 'worker',
  path: string,
  opts: { method?: 'GET' | 'POST'; token?: string | undefined } = {},
): Promise<unknown> {
  let base: string | undefined;
  try {
    base = (JSON.parse(readFileSync(join(dir, 'nodes.json'), 'utf8')) as Record<string, string>)[role];
  } catch {
    base = undefined;
  }
  if (!base)
    throw new CocoonError(
      'NOT_RUNNING',
      `no running ${role} recorded in ${join(dir, 'nodes.json')}: start it (cocoon up)`,
    );
  let token = opts.token;
  if (!token) {
    try {
      token = readFileSync(join(dir, 'access-token'), 'utf8').trim();
    } catch {
      token = undefined;
    }
  }
  const url = new URL(path, base);
  if (token) url.searchParams.set('access_token', token);
  let res: Response;
  try {
    res = await fetch(url, { method: opts.method ?? 'GET' });
  } catch (err) {
    throw new CocoonError(
      'NOT_RUNNING',
      `the ${role} at ${base} does not answer (${(err as Error).message}): is it running?`,
    );
  }
  const body = (await res.json()) as { error?: { message: string } };
  if (!res.ok) throw new CocoonError('NODE_ERROR', body.error?.message ?? `HTTP ${res.status}`);
  return body;
}

/** The node's hand on the chain: with --root (not a JSON root config) and --wallet. */
export async function chainOf(v: Values): Promise<ChainAgent | undefined> {
  if (v['root-config'] || !v.wallet) return undefined;
  const chain: Parameters<typeof openClient>[0] = {};
  if (v.endpoint) chain.endpoint = v.endpoint;
  if (v['api-key']) chain.apiKey = v['api-key'];
  return new ChainAgent(openClient(chain), await loadWallet(v.wallet), logTo(v));
}

/** The node's structured logger (JSON lines on stderr). */
export function loggerOf(v: Values, role: 'proxy' | 'worker' | 'client'): Logger {
  return nodeLogger(v['log-level'] ? { role, level: v['log-level'] } : { role });
}
