import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ProxyNode } from '../../node/proxy/proxy.ts';
import { Store } from '../../store/store.ts';
import { withConfig } from '../config.ts';
import type { Command } from '../main.ts';
import {
  chainOf,
  identityOf,
  loggerOf,
  logTo,
  nodeOptions,
  nodeUsage,
  ownerOf,
  peerPolicy,
  portOf,
  recordNode,
  rootFrom,
  untilSignal,
} from './node-opts.ts';

const usage = [
  'Usage: cocoon proxy (--root-config FILE | --root ADDRESS) [options]',
  '',
  'Runs a proxy: accepts workers (RA-TLS, attested both ways) and clients, routes requests to workers,',
  'relays answers as they stream and meters them. Stats on --stats-port (/stats, /jsonstats).',
  '',
  '  --workers-port P     port for workers (default 11001)',
  '  --clients-port P     port for clients (default 11002)',
  '  --stats-port P       /stats and /jsonstats (default 11000)',
  '  --pow-difficulty N   PoW bits demanded before TLS (default 20)',
  '  --charge-threshold N charge a client on-chain once N nanoTON of its usage is unsettled (default 1 TON)',
  '',
  nodeUsage,
].join('\n');

export const proxy: Command = {
  summary: 'run a proxy: accepts workers and clients, routes, relays and meters requests',
  usage,
  async run(argv) {
    const { values: v } = parseArgs({
      args: withConfig('proxy', argv),
      options: {
        ...nodeOptions,
        'workers-port': { type: 'string' },
        'clients-port': { type: 'string' },
        'stats-port': { type: 'string' },
        'pow-difficulty': { type: 'string' },
        'charge-threshold': { type: 'string' },
      },
    });
    const root = await rootFrom(v);
    const identity = await identityOf(v, 'proxy');
    const chain = await chainOf(v);
    const opts: ConstructorParameters<typeof ProxyNode>[0] = {
      root,
      identity,
      ownerAddress: ownerOf(v, identity, chain),
      ...(chain ? { chain } : {}),
      logger: loggerOf(v, 'proxy'),
      workerPolicy: peerPolicy(v),
      clientPolicy: 'any',
      checkWorkerHashes: !v['no-hash-check'],
      host: v.host ?? '127.0.0.1',
      workerPort: portOf(v['workers-port'], 11001, 'workers-port'),
      clientPort: portOf(v['clients-port'], 11002, 'clients-port'),
      statsPort: portOf(v['stats-port'], 11000, 'stats-port'),
      store: Store.open(join(v.dir ?? '.cocoon', 'proxy-db')),
    };
    if (v['access-token']) opts.accessToken = v['access-token'];
    if (v['pow-difficulty']) opts.powDifficulty = Number(v['pow-difficulty']);
    if (v['charge-threshold']) opts.chargeThreshold = BigInt(v['charge-threshold']);
    const log = logTo(v);
    if (log) opts.log = log;
    const node = new ProxyNode(opts);
    await node.start();
    const host = opts.host;
    process.stdout.write(
      `proxy: workers on ${host}:${node.ports.workers}, clients on ${host}:${node.ports.clients}\n`,
    );
    process.stdout.write(`proxy: stats on http://${host}:${node.ports.stats}/stats\n`);
    recordNode(v.dir ?? '.cocoon', 'proxy', `http://${host}:${node.ports.stats}/`);
    process.stdout.write(
      `proxy: contract ${node.scAddress || '(none: the root config has no contract codes)'}\n`,
    );
    // Until a signal, or until the proxy stops by itself (its store failed: it may not serve what it cannot
    // account for), which must end the process so a supervisor sees it and restarts it.
    const failed = await Promise.race([untilSignal().then(() => undefined), node.failed]);
    await node.close();
    await opts.store?.close().catch(() => {});
    root.close();
    identity.refresher.close();
    if (failed) {
      process.stderr.write(`proxy: stopped: ${failed.message}\n`);
      return 1;
    }
    return 0;
  },
};
