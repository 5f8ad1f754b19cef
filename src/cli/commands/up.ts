import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openClient } from '../../chain/client.ts';
import { Devnet } from '../../chain/devnet.ts';
import { openEngine } from '../../inference/load.ts';
import { ChainAgent } from '../../node/chain-agent.ts';
import { localRoot, localWallet, nodeKey } from '../../node/local-chain.ts';
import { nodeLogger } from '../../node/log.ts';
import { type LocalNetworkOptions, startLocalNetwork } from '../../node/network.ts';
import { RootWatcher, rootConfigFromFile } from '../../node/root-config.ts';
import type { InferenceEngine } from '../../openai/engine.ts';
import type { Command } from '../main.ts';
import { step } from '../progress.ts';
import { recordNode } from './node-opts.ts';

const usage = [
  'Usage: cocoon up [--workers N] [--backend URL | --model M] [--dir DIR] [options]',
  '',
  'Starts a whole local Cocoon network in one process: a TON devnet with the root contract, one proxy, N',
  'workers and a client, every hop over RA-TLS with fake-TDX quotes (policy fake_tdx: forgeable, for local',
  'use only). Prints the OpenAI API URL; Ctrl-C stops everything. State (devnet, keys, wallet, root, access',
  'token) lives in DIR, so a second `cocoon up` on the same DIR resumes it.',
  '',
  '  --workers N        workers to start (default 1)',
  '  --backend URL      workers forward to this OpenAI-compatible engine (vLLM, SGLang, llama.cpp, Ollama /v1)',
  '  --model M          workers run this GGUF in-process: embedded (default), PATH.gguf or hf:OWNER/REPO/FILE',
  '  --dir DIR          state directory (default .cocoon)',
  '  --port P           client API port (default 10000; 0: every node on a free port)',
  '  --host H           address every node binds (default 127.0.0.1)',
  '  --devnet-port P    devnet JSON-RPC port (default 8081)',
  '  --root-config F    no devnet: read the root from a JSON file (proxies, hashes, params)',
  '  --api-key KEY      require "Authorization: Bearer KEY" on the client API',
  '  --threads N        evaluation threads per embedded model (default 1)',
  '  --log-level L      JSON logs of every node on stderr (default warn; info logs every request)',
].join('\n');

function port(v: string | undefined, d: number, name: string): number {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535) throw new TypeError(`--${name} must be a port number`);
  return n;
}

export const up: Command = {
  summary: 'start a whole local network (devnet, root, proxy, workers, client) with the embedded defaults',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        workers: { type: 'string' },
        backend: { type: 'string' },
        model: { type: 'string' },
        dir: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'devnet-port': { type: 'string' },
        'root-config': { type: 'string' },
        'api-key': { type: 'string' },
        threads: { type: 'string' },
        'log-level': { type: 'string' },
      },
    });
    const n = Number(values.workers ?? 1);
    if (!Number.isSafeInteger(n) || n < 1 || n > 64) throw new TypeError('--workers must be 1..64');
    if (values.backend && values.model) throw new TypeError('--backend and --model exclude each other');
    const dir = values.dir ?? '.cocoon';
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const host = values.host ?? '127.0.0.1';
    const say = (s: string) => process.stdout.write(`${s}\n`);
    const log = (s: string) => process.stderr.write(`  ${s}\n`);
    const apiPort = port(values.port, 10000, 'port');
    // --port 0: every node on a free port (several networks side by side, tests).
    const ephemeral = apiPort === 0;
    const tokenFile = join(dir, 'access-token');
    if (!existsSync(tokenFile))
      writeFileSync(tokenFile, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
    const accessToken = readFileSync(tokenFile, 'utf8').trim();

    say(`cocoon up: starting in ${dir}`);
    const engines: InferenceEngine[] = [];
    let devnet: Devnet | undefined;
    const stopAll = async () => {
      await Promise.all(engines.map((e) => e.close()));
      await devnet?.close();
    };
    try {
      for (let i = 0; i < n; i++) {
        const choice: Parameters<typeof openEngine>[0] = values.backend
          ? { backend: values.backend }
          : { model: values.model ?? 'embedded' };
        if (values.threads) choice.threads = Number(values.threads);
        engines.push(await step(`loading the engine of worker ${i + 1}`, openEngine(choice)));
      }
      const models = await Promise.all(engines.map(async (e) => (await e.health()).models[0] ?? 'model'));
      say(
        `  workers: ${n} × ${values.backend ? `engine at ${values.backend}` : `embedded model`} (${[...new Set(models)].join(', ')})`,
      );

      const opts: LocalNetworkOptions = {
        workers: engines.map((engine) => ({ engine })),
        host,
        ports: ephemeral
          ? { api: 0, proxyWorkers: 0, proxyClients: 0, proxyStats: 0, workerStats: 0 }
          : { api: apiPort, proxyWorkers: 11001, proxyClients: 11002, proxyStats: 11000, workerStats: 12000 },
        accessToken,
        proxyStorePath: join(dir, 'proxy-db'),
        nodeStoreDir: dir,
        keys: {
          proxy: nodeKey(dir, 'proxy'),
          client: nodeKey(dir, 'client'),
          worker: (i) => nodeKey(dir, `worker-${i}`),
        },
        log: process.env.COCOON_LOG === 'debug' ? log : () => {},
        // JSON logs on stderr; quiet by default so the summary above stays readable.
        logger: (role) =>
          nodeLogger({ role, level: values['log-level'] ?? process.env.COCOON_LOG_LEVEL ?? 'warn' }),
      };
      if (values['api-key']) opts.apiKey = values['api-key'];
      if (values['root-config']) {
        const file = values['root-config'];
        opts.root = async () => new RootWatcher(rootConfigFromFile(file));
        say(`  root: from ${file} (no chain)`);
      } else {
        devnet = await step('opening the devnet', Devnet.open({ dir: join(dir, 'devnet') }));
        const endpoint = await devnet.listen(
          port(values['devnet-port'], ephemeral ? 0 : 8081, 'devnet-port'),
        );
        say(`  devnet: ${endpoint}`);
        const client = openClient({ endpoint });
        const wallet = await localWallet(client, endpoint, dir);
        const owner = wallet.contract.address.toString();
        // One wallet pays for every node's on-chain actions (its owner runs them all): contracts, stakes, top-ups,
        // charges and payouts.
        opts.chain = new ChainAgent(client, wallet, opts.log);
        // Settle every 2,000 nanoTON (100 tokens at 20 nanoTON: a few answers) so balances visibly move on a demo
        // network; real networks settle every TON or more, where the fees are a small part of what is settled.
        opts.chargeThreshold = 2_000n;
        opts.payoutThreshold = 1_600n;
        opts.proxyOwner = owner;
        opts.clientOwner = owner;
        opts.workerOwner = () => owner;
        opts.root = async (proxy, allow) => {
          const root = await localRoot({
            client,
            wallet,
            dir,
            proxy,
            allow,
            log: (l) => say(`  root: ${l}`),
          });
          say(`  root: ${root.current.rootAddress} (version ${root.current.version})`);
          root.start();
          return root;
        };
      }
      const net = await step('starting the network (root, proxy, workers, client)', startLocalNetwork(opts));
      const api = net.apiUrl;
      recordNode(dir, 'client', api.replace(/\/v1$/, '/'));
      recordNode(dir, 'proxy', `http://${host}:${net.proxy.ports.stats}/`);
      recordNode(dir, 'worker', `http://${host}:${net.workers[0]?.statsPort}/`);
      const model = models[0];
      say('');
      say(`Cocoon is up. OpenAI API: ${api}`);
      say(`Dashboard: ${api.replace(/\/v1$/, '')}/?access_token=${accessToken}`);
      say(
        `  proxy   ${net.proxy.scAddress || '(no contract)'} on ${host}:${net.proxy.ports.clients} (clients), :${net.proxy.ports.workers} (workers)`,
      );
      say(`  stats   http://${host}:${net.proxy.ports.stats}/stats?access_token=${accessToken} (proxy)`);
      say(`          http://${host}:${net.workers[0]?.statsPort}/stats?access_token=${accessToken} (worker)`);
      say(`          ${api.replace(/\/v1$/, '')}/stats?access_token=${accessToken} (client)`);
      say('');
      say('Try it:');
      say(
        `  curl -N ${api}/chat/completions -H 'Content-Type: application/json'${values['api-key'] ? ` -H 'Authorization: Bearer ${values['api-key']}'` : ''} \\`,
      );
      say(
        `    -d '{"model":"${model}","messages":[{"role":"user","content":"What is the capital of Peru?"}],"stream":true}'`,
      );
      say('');
      say('Ctrl-C stops the network.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      say('cocoon up: stopping');
      await net.close();
      return 0;
    } finally {
      await stopAll();
    }
  },
};
