import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEngine } from '../../inference/load.ts';
import { WorkerNode } from '../../node/worker/node.ts';
import { Store } from '../../store/store.ts';
import { withConfig } from '../config.ts';
import type { Command } from '../main.ts';
import { step } from '../progress.ts';
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
import { WORKER_OPS, workerOp, workerOpsUsage } from './node-status.ts';

const usage = [
  'Usage: cocoon worker (--root-config FILE | --root ADDRESS) [--model M | --backend URL] [options]',
  '',
  'Runs a worker: connects to the proxies the root lists (RA-TLS), serves their requests on its engine and',
  'earns for every token. Stats and control on --stats-port: /stats, /jsonstats, /request/enable,',
  '/request/disable, /request/change_coefficient?coefficient=1.5.',
  '',
  '  --model M            a GGUF run in-process: embedded (default), PATH.gguf or hf:OWNER/REPO/FILE.gguf',
  '  --backend URL        an OpenAI-compatible engine instead (vLLM, SGLang, llama.cpp server, Ollama /v1)',
  '  --backend-key KEY    bearer token for --backend',
  "  --model-name SPEC    the model as the root knows it, NAME@COMMIT:VERITY (default: the engine's name)",
  '  --coefficient X      price multiplier, e.g. 1.5 (default 1.0)',
  '  --max-active N       requests at once (default 200)',
  '  --proxies N          distinct proxies to serve (default 1)',
  '  --stats-port P       /stats, /jsonstats, /request/* (default 12000)',
  '  --payout-threshold N cash out once a proxy owes N nanoTON more than it paid (default 1 TON)',
  '',
  nodeUsage,
  '',
  workerOpsUsage,
].join('\n');

export const worker: Command = {
  summary: "run a worker: serves proxies' requests on an inference engine and earns per token",
  usage,
  async run(argv) {
    if ((WORKER_OPS as readonly string[]).includes(argv[0] ?? '')) return workerOp(argv);
    const { values: v } = parseArgs({
      args: withConfig('worker', argv),
      options: {
        ...nodeOptions,
        model: { type: 'string' },
        backend: { type: 'string' },
        'backend-key': { type: 'string' },
        'model-name': { type: 'string' },
        coefficient: { type: 'string' },
        'max-active': { type: 'string' },
        proxies: { type: 'string' },
        'stats-port': { type: 'string' },
        'payout-threshold': { type: 'string' },
      },
    });
    if (v.model && v.backend) throw new TypeError('--model and --backend exclude each other');
    const coefficient = Math.round(Number(v.coefficient ?? 1) * 1000);
    if (!Number.isSafeInteger(coefficient) || coefficient < 0)
      throw new TypeError('--coefficient must be ≥ 0');
    const root = await rootFrom(v);
    const identity = await identityOf(v, 'worker');
    const chain = await chainOf(v);
    const choice: Parameters<typeof openEngine>[0] = v.backend
      ? { backend: v.backend }
      : { model: v.model ?? 'embedded' };
    if (v['backend-key']) choice.apiKey = v['backend-key'];
    const engine = await step('loading the engine', openEngine(choice));
    const model = v['model-name'] ?? (await engine.health()).models[0];
    if (!model) throw new TypeError('the engine names no model: give --model-name');
    const opts: ConstructorParameters<typeof WorkerNode>[0] = {
      root,
      identity,
      engine,
      model,
      ownerAddress: ownerOf(v, identity, chain),
      ...(chain ? { chain } : {}),
      logger: loggerOf(v, 'worker'),
      coefficient,
      proxyPolicy: peerPolicy(v),
      checkProxyHashes: !v['no-hash-check'],
      host: v.host ?? '127.0.0.1',
      statsPort: portOf(v['stats-port'], 12000, 'stats-port'),
      store: Store.open(join(v.dir ?? '.cocoon', 'worker-db')),
    };
    if (v['max-active']) opts.maxActiveRequests = Number(v['max-active']);
    if (v.proxies) opts.proxyConnections = Number(v.proxies);
    if (v['payout-threshold']) opts.payoutThreshold = BigInt(v['payout-threshold']);
    if (v['access-token']) opts.accessToken = v['access-token'];
    const log = logTo(v);
    if (log) opts.log = log;
    const node = new WorkerNode(opts);
    await node.start();
    process.stdout.write(`worker: ${engine.kind} engine serving ${model} ×${coefficient / 1000}\n`);
    process.stdout.write(`worker: stats on http://${opts.host}:${node.statsPort}/stats\n`);
    recordNode(v.dir ?? '.cocoon', 'worker', `http://${opts.host}:${node.statsPort}/`);
    node
      .waitReady(60_000)
      .then((s) => process.stdout.write(`worker: connected to proxy ${s.address}\n`))
      .catch((e: Error) => process.stderr.write(`worker: ${e.message} (still trying)\n`));
    await untilSignal();
    await node.close();
    await opts.store?.close();
    await engine.close();
    root.close();
    identity.refresher.close();
    return 0;
  },
};
