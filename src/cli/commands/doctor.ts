import { existsSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { DEVNET_ENDPOINT } from '../../chain/client.ts';
import { HttpEngine } from '../../openai/engine.ts';
import { DEFAULT_TSM_ROOT } from '../../tee/configfs-tsm.ts';
import type { Command } from '../main.ts';

const usage = [
  'Usage: cocoon doctor [--backend URL] [--endpoint URL] [--dir DIR] [--json]',
  '',
  'Checks this machine for running Cocoon nodes and says what is wrong and what to do:',
  'Node version, TDX (configfs-tsm), the inference engine (--backend), the chain endpoint and its clock, the',
  "default ports, and the state directory's disk. Exit status 1 when a check fails (warnings do not count).",
].join('\n');

type Level = 'ok' | 'warn' | 'fail';

interface Check {
  name: string;
  level: Level;
  detail: string;
  fix?: string;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function rpc(endpoint: string, method: string, params: object = {}): Promise<unknown> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 1, jsonrpc: '2.0', method, params }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { ok?: boolean; result?: unknown; error?: string };
  if (!res.ok || body.ok === false) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body.result;
}

export const doctor: Command = {
  summary:
    'check this machine for running nodes (TDX, engine, chain, clock, ports, disk) and say what to fix',
  usage,
  async run(argv) {
    const { values: v } = parseArgs({
      args: argv,
      options: {
        backend: { type: 'string' },
        endpoint: { type: 'string' },
        dir: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    const checks: Check[] = [];
    const add = (c: Check) => checks.push(c);

    const major = Number(process.versions.node.split('.')[0]);
    add(
      major >= 20
        ? { name: 'node', level: 'ok', detail: `Node ${process.versions.node}` }
        : {
            name: 'node',
            level: 'fail',
            detail: `Node ${process.versions.node}`,
            fix: 'install Node 20 or newer',
          },
    );

    add(
      existsSync(DEFAULT_TSM_ROOT)
        ? { name: 'tdx', level: 'ok', detail: `configfs-tsm at ${DEFAULT_TSM_ROOT}: real quotes (--tee tdx)` }
        : {
            name: 'tdx',
            level: 'warn',
            detail: 'no configfs-tsm: this is not a TDX guest',
            fix: 'proxies and workers need a TDX VM (kernel ≥ 6.7); clients do not; for local tests use --tee fake_tdx',
          },
    );

    if (v.backend) {
      const h = await new HttpEngine({ url: v.backend, healthTimeoutMs: 5000 }).health();
      add(
        h.ok
          ? {
              name: 'engine',
              level: 'ok',
              detail: `${v.backend} serves ${h.models.join(', ') || 'no model'} (${Math.round(h.latencyMs)} ms)`,
            }
          : {
              name: 'engine',
              level: 'fail',
              detail: `${v.backend}: ${h.error ?? 'unhealthy'}`,
              fix: 'start the engine (vLLM: vllm serve MODEL --port 8000) or pass the right --backend URL',
            },
      );
    }

    const endpoint = v.endpoint ?? DEVNET_ENDPOINT;
    try {
      const t0 = Date.now();
      let chainNow: number | undefined;
      try {
        chainNow = ((await rpc(endpoint, 'devnet_info')) as { now: number }).now;
      } catch {
        await rpc(endpoint, 'getMasterchainInfo');
      }
      add({
        name: 'chain',
        level: 'ok',
        detail: `${endpoint} answers (${Date.now() - t0} ms)${chainNow ? ', a devnet' : ''}`,
      });
      if (chainNow !== undefined) {
        const skew = Math.abs(chainNow - Math.floor(Date.now() / 1000));
        add(
          skew <= 30
            ? { name: 'clock', level: 'ok', detail: `within ${skew} s of the chain` }
            : {
                name: 'clock',
                level: 'warn',
                detail: `${skew} s away from the chain's clock`,
                fix: 'a devnet moved forward in time is fine; otherwise sync the clock (timedatectl set-ntp true)',
              },
        );
      }
    } catch (err) {
      add({
        name: 'chain',
        level: v.endpoint ? 'fail' : 'warn',
        detail: `${endpoint}: ${(err as Error).message}`,
        fix: v.endpoint
          ? 'check the URL and the API key'
          : 'start one with `cocoon devnet` (or `npm start`), or pass --endpoint',
      });
    }

    const ports: [number, string][] = [
      [10000, 'client API'],
      [11000, 'proxy stats'],
      [11001, 'proxy (workers)'],
      [11002, 'proxy (clients)'],
      [12000, 'worker stats'],
      [8081, 'devnet'],
    ];
    const taken: string[] = [];
    for (const [p, what] of ports) if (!(await portFree(p))) taken.push(`${p} (${what})`);
    add(
      taken.length === 0
        ? { name: 'ports', level: 'ok', detail: 'the default ports are free' }
        : {
            name: 'ports',
            level: 'warn',
            detail: `in use: ${taken.join(', ')}`,
            fix: 'a Cocoon node may already run here (cocoon client status); otherwise pick other ports (--port 0 on cocoon up)',
          },
    );

    const dir = v.dir ?? '.cocoon';
    try {
      const fs = statfsSync(existsSync(dir) ? dir : '.');
      const free = Number(fs.bavail) * Number(fs.bsize);
      add(
        free > 1024 ** 3
          ? { name: 'disk', level: 'ok', detail: `${(free / 1024 ** 3).toFixed(1)} GiB free for ${dir}` }
          : {
              name: 'disk',
              level: 'fail',
              detail: `${(free / 1024 ** 2).toFixed(0)} MiB free for ${dir}`,
              fix: 'free space: the stores sync every commit and refuse to write on a full disk',
            },
      );
    } catch (err) {
      add({ name: 'disk', level: 'warn', detail: `cannot check ${dir}: ${(err as Error).message}` });
    }

    if (v.json)
      process.stdout.write(`${JSON.stringify({ ok: !checks.some((c) => c.level === 'fail'), checks })}\n`);
    else {
      const tty = process.stdout.isTTY;
      const mark = (l: Level) =>
        tty
          ? { ok: '\x1b[32m✔\x1b[0m', warn: '\x1b[33m!\x1b[0m', fail: '\x1b[31m✖\x1b[0m' }[l]
          : { ok: 'ok  ', warn: 'warn', fail: 'FAIL' }[l];
      for (const c of checks) {
        process.stdout.write(`${mark(c.level)} ${c.name.padEnd(7)} ${c.detail}\n`);
        if (c.fix && c.level !== 'ok') process.stdout.write(`        → ${c.fix}\n`);
      }
    }
    return checks.some((c) => c.level === 'fail') ? 1 : 0;
  },
};
