import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { beginCell, SendMode } from '@ton/core';
import {
  ChainError,
  formatTon,
  openClient,
  parseTon,
  sendFromWallet,
  waitFor,
  withRetry,
} from '../../chain/client.ts';
import { compileContract } from '../../chain/compile.ts';
import { defaultParams, modelHash, Root } from '../../chain/root.ts';
import type { Command } from '../main.ts';
import { step } from '../progress.ts';
import { chainOf, chainOptions, chainUsage, loadWallet, parseAddress, saveJson } from './chain-opts.ts';

const usage = [
  'Usage:',
  '  cocoon root deploy [--unique-id N] [--price NANO] [--worker-fee NANO] [--production]',
  '                                        deploy a root owned by the operator wallet; saves its address',
  '  cocoon root show                      everything the root holds',
  '  cocoon root set-params [--price NANO] [--worker-fee NANO] [--proxy-delay S] [--client-delay S]',
  '                         [--min-proxy-stake TON] [--min-client-stake TON]',
  '  cocoon root add-hash worker|proxy|model VALUE     (model: NAME@COMMIT:VERITY, hashed; else 64 hex)',
  '  cocoon root del-hash worker|proxy|model VALUE',
  '  cocoon root register-proxy IP:PORT [IP:PORT]      address for workers [and for clients]',
  '',
  '  --root ADDRESS   the root (default: the one in .cocoon/root.json)',
  chainUsage,
].join('\n');

const ROOT_FILE = '.cocoon/root.json';

function hashArg(kind: string, v: string): bigint {
  if (kind === 'model' && !/^[0-9a-fA-F]{64}$/.test(v)) return modelHash(v);
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(v))
    throw new ChainError('BAD_HASH', `${kind} hash must be 64 hex digits`);
  return BigInt(`0x${v.replace(/^0x/, '')}`);
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff)
    throw new ChainError('BAD_ARGUMENT', `--${name} must be a 32-bit unsigned integer`);
  return n;
}

export const root: Command = {
  summary: 'deploy and administer the root contract (registry and network parameters)',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...chainOptions,
        root: { type: 'string' },
        'unique-id': { type: 'string' },
        price: { type: 'string' },
        'worker-fee': { type: 'string' },
        production: { type: 'boolean' },
        'proxy-delay': { type: 'string' },
        'client-delay': { type: 'string' },
        'min-proxy-stake': { type: 'string' },
        'min-client-stake': { type: 'string' },
      },
    });
    const [sub, ...args] = positionals;
    const client = openClient(chainOf(values));
    const say = (text: string, json: unknown) =>
      process.stdout.write(
        values.json
          ? `${JSON.stringify(json, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`
          : `${text}\n`,
      );
    const rootAddress = () => {
      if (values.root) return parseAddress(values.root);
      if (!existsSync(ROOT_FILE))
        throw new ChainError('NO_ROOT', `no --root and no ${ROOT_FILE}: deploy one first`);
      return parseAddress((JSON.parse(readFileSync(ROOT_FILE, 'utf8')) as { address: string }).address);
    };
    const wallet = () => loadWallet(values.wallet ?? '.cocoon/wallet.json');

    if (sub === 'deploy') {
      const w = await wallet();
      // The root publishes the proxy, worker and client contract codes: every node derives addresses from them.
      const [proxyScCode, workerScCode, clientScCode] = await Promise.all([
        compileContract('proxy'),
        compileContract('worker'),
        compileContract('client'),
      ]);
      const params = defaultParams({
        proxyScCode,
        workerScCode,
        clientScCode,
        uniqueId: int(values['unique-id'], 'unique-id') ?? Math.floor(Math.random() * 2 ** 31),
        isTest: !values.production,
        ...(values.price ? { pricePerToken: BigInt(values.price) } : {}),
        ...(values['worker-fee'] ? { workerFeePerToken: BigInt(values['worker-fee']) } : {}),
      });
      if (params.workerFeePerToken > params.pricePerToken)
        throw new ChainError('BAD_ARGUMENT', 'the worker fee cannot exceed the price');
      const r = client.open(
        Root.createFromConfig({ owner: w.contract.address, params }, await compileContract('root')),
      );
      await sendFromWallet(client, w, (sender) =>
        sender.send({
          to: r.address,
          value: parseTon('0.5'),
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
      saveJson(ROOT_FILE, { address: r.address.toString(), endpoint: chainOf(values).endpoint ?? null });
      say(`root deployed at ${r.address.toString()} (saved in ${ROOT_FILE})`, {
        address: r.address.toString(),
      });
      return 0;
    }
    const r = client.open(Root.createFromAddress(rootAddress()));
    if (sub === 'show') {
      const st = await withRetry(() => r.getState());
      const p = st.params;
      const hex = (xs: bigint[]) => xs.map((x) => x.toString(16).padStart(64, '0'));
      const json = {
        address: r.address.toString(),
        owner: st.owner.toString(),
        version: st.version,
        params: {
          ...p,
          proxyScCode: p.proxyScCode?.hash().toString('hex') ?? null,
          workerScCode: p.workerScCode?.hash().toString('hex') ?? null,
          clientScCode: p.clientScCode?.hash().toString('hex') ?? null,
        },
        proxy_hashes: hex(st.proxyHashes),
        worker_hashes: hex(st.workerHashes),
        model_hashes: hex(st.modelHashes),
        proxies: Object.fromEntries(st.proxies),
        last_proxy_seqno: st.lastProxySeqno,
      };
      const text = [
        `root            ${json.address}`,
        `owner           ${json.owner}`,
        `version         ${st.version} (params version ${p.paramsVersion}, unique id ${p.uniqueId}${p.isTest ? ', test' : ''})`,
        `price per token ${p.pricePerToken} nanoTON (worker fee ${p.workerFeePerToken})`,
        `close delays    proxy ${p.proxyDelayBeforeClose} s, client ${p.clientDelayBeforeClose} s`,
        `min stakes      proxy ${formatTon(p.minProxyStake)} TON, client ${formatTon(p.minClientStake)} TON`,
        `proxy images    ${json.proxy_hashes.join(', ') || 'none'}`,
        `worker images   ${json.worker_hashes.join(', ') || 'none'}`,
        `models          ${json.model_hashes.join(', ') || 'none'}`,
        `proxies         ${[...st.proxies].map(([k, v]) => `#${k} ${v.workers}${v.clients !== v.workers ? ` / ${v.clients}` : ''}`).join(', ') || 'none'}`,
      ].join('\n');
      say(text, json);
      return 0;
    }
    const w = await wallet();
    const version = (await withRetry(() => r.getCocoonData())).version;
    const applied = () =>
      waitFor(
        'the root update',
        () => r.getCocoonData(),
        (d) => d.version > version,
      );
    switch (sub) {
      case 'set-params': {
        const p = await withRetry(() => r.getParams());
        const next = {
          pricePerToken: values.price ? BigInt(values.price) : p.pricePerToken,
          workerFeePerToken: values['worker-fee'] ? BigInt(values['worker-fee']) : p.workerFeePerToken,
          proxyDelayBeforeClose: int(values['proxy-delay'], 'proxy-delay') ?? p.proxyDelayBeforeClose,
          clientDelayBeforeClose: int(values['client-delay'], 'client-delay') ?? p.clientDelayBeforeClose,
          minProxyStake: values['min-proxy-stake'] ? parseTon(values['min-proxy-stake']) : p.minProxyStake,
          minClientStake: values['min-client-stake']
            ? parseTon(values['min-client-stake'])
            : p.minClientStake,
        };
        await sendFromWallet(client, w, (s) => r.sendChangeParams(s, next));
        break;
      }
      case 'add-hash':
      case 'del-hash': {
        const [kind, value] = args;
        if (!kind || !value || !['worker', 'proxy', 'model'].includes(kind)) {
          process.stderr.write(`${usage}\n`);
          return 2;
        }
        const h = hashArg(kind, value);
        const add = sub === 'add-hash';
        await sendFromWallet(client, w, (s) =>
          kind === 'worker'
            ? add
              ? r.sendAddWorkerType(s, h)
              : r.sendDelWorkerType(s, h)
            : kind === 'proxy'
              ? add
                ? r.sendAddProxyType(s, h)
                : r.sendDelProxyType(s, h)
              : add
                ? r.sendAddModelType(s, h)
                : r.sendDelModelType(s, h),
        );
        break;
      }
      case 'register-proxy': {
        const [workers, clients] = args;
        if (!workers) {
          process.stderr.write(`${usage}\n`);
          return 2;
        }
        await sendFromWallet(client, w, (s) =>
          r.sendRegisterProxy(s, { workers, clients: clients ?? workers }),
        );
        break;
      }
      default:
        process.stderr.write(`${usage}\n`);
        return 2;
    }
    const d = await step('waiting for the chain to apply it', applied());
    say(`root updated: version ${d.version}`, { version: d.version });
    return 0;
  },
};
