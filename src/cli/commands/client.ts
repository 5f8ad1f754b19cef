import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clientApi, listenApi } from '../../node/client/api.ts';
import { ClientNode, KEEP_RECEIPTS } from '../../node/client/client.ts';
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
import { CLIENT_OPS, clientOp, clientOpsUsage } from './node-status.ts';

const usage = [
  'Usage: cocoon client (--root-config FILE | --root ADDRESS) [options]',
  '',
  'Runs a client: connects to a proxy from the root (checking its attestation) and serves the OpenAI API',
  '(POST /v1/chat/completions, POST /v1/completions, GET /v1/models) for your apps, plus /stats.',
  '',
  '  --port P             API port (default 10000)',
  '  --key KEY            require "Authorization: Bearer KEY" from apps',
  '  --secret S           short-auth secret registered with the proxy (default empty)',
  '  --proxies N          proxies to hold connections to (default 1)',
  '  --seal MODE          auto (default): seal each request to the worker enclave when the proxy and a worker',
  '                       can, else send it plain; require: never plain; off: always plain (as the reference)',
  `  --keep-receipts N    signed receipts kept in the store, the newest (default ${KEEP_RECEIPTS.toLocaleString('en')})`,
  '',
  nodeUsage,
  '',
  clientOpsUsage,
].join('\n');

export const client: Command = {
  summary: 'run a client: the OpenAI-compatible API for apps, through an attested proxy',
  usage,
  async run(argv) {
    if ((CLIENT_OPS as readonly string[]).includes(argv[0] ?? '')) return clientOp(argv);
    const { values: v } = parseArgs({
      args: withConfig('client', argv),
      options: {
        ...nodeOptions,
        port: { type: 'string' },
        key: { type: 'string' },
        secret: { type: 'string' },
        proxies: { type: 'string' },
        seal: { type: 'string' },
        'keep-receipts': { type: 'string' },
      },
    });
    const root = await rootFrom(v);
    const identity = await identityOf(v, 'client');
    const chain = await chainOf(v);
    const opts: ConstructorParameters<typeof ClientNode>[0] = {
      root,
      identity,
      ownerAddress: ownerOf(v, identity, chain),
      ...(chain ? { chain } : {}),
      logger: loggerOf(v, 'client'),
      proxyPolicy: peerPolicy(v),
      checkProxyHashes: !v['no-hash-check'],
      store: Store.open(join(v.dir ?? '.cocoon', 'client-db')),
    };
    if (v.secret !== undefined) opts.secret = v.secret;
    if (v.proxies) opts.proxyConnections = Number(v.proxies);
    if (v.seal !== undefined) {
      if (v.seal !== 'auto' && v.seal !== 'require' && v.seal !== 'off') {
        throw new TypeError(`--seal must be auto, require or off, not ${v.seal}`);
      }
      opts.seal = v.seal;
    }
    if (v['keep-receipts'] !== undefined) {
      const n = Number(v['keep-receipts']);
      if (!Number.isSafeInteger(n) || n < 0) throw new TypeError('--keep-receipts must be a whole number');
      opts.keepReceipts = n;
    }
    const log = logTo(v);
    if (log) opts.log = log;
    const node = new ClientNode(opts);
    node.start();
    const apiOpts: Parameters<typeof clientApi>[0] = { node };
    if (v.key) apiOpts.apiKey = v.key;
    if (v['access-token']) apiOpts.accessToken = v['access-token'];
    const server = clientApi(apiOpts);
    const host = v.host ?? '127.0.0.1';
    const port = await listenApi(server, portOf(v.port, 10000, 'port'), host);
    process.stdout.write(`client: OpenAI API on http://${host}:${port}/v1\n`);
    recordNode(v.dir ?? '.cocoon', 'client', `http://${host}:${port}/`);
    node
      .waitReady(60_000)
      .then((s) =>
        process.stdout.write(`client: connected to proxy ${s.address} (image ${s.peer.imageHash})\n`),
      )
      .catch((e: Error) => process.stderr.write(`client: ${e.message} (still trying)\n`));
    await untilSignal();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    node.close();
    await opts.store?.close();
    root.close();
    identity.refresher.close();
    return 0;
  },
};
