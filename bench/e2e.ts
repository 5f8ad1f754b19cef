// What the three hops cost: the same streaming load sent to a fast backend directly and through
// client → proxy → worker, each node its own process (`cocoon proxy|worker|client` on a JSON root config, fake
// TDX, real RA-TLS), measured in one run on one machine. Reports first-byte and full-response latency at
// concurrency 1 and 64 and requests per second, and the added latency of the chain over direct.
// COCOON_BENCH_PROFILE=DIR writes a CPU profile of every process into DIR.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Benchmark } from '../src/cli/commands/bench.ts';
import { FAKE_TDX_IMAGE_HASH } from '../src/tee/fake-tdx.ts';
import { BENCH_MODEL } from './fixed-backend.ts';

const root = new URL('..', import.meta.url).pathname;

function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: string }> {
  const prof = process.env.COCOON_BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.COCOON_BENCH_PROFILE}`]
    : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} not ready: ${err}`)), 60_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      const m = ready.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m[1] ?? m[0] });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Sample {
  firstByteMs: number;
  totalMs: number;
}

/** One streaming chat completion; times to the first body byte and to the end. */
function once(agent: Agent, url: URL, body: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode}`));
          return;
        }
        res.on('data', () => {
          if (!first) first = performance.now();
        });
        res.on('end', () => resolve({ firstByteMs: first - t0, totalMs: performance.now() - t0 }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `concurrency` loops sending requests until `total` are done; returns samples and requests per second. */
async function load(
  url: URL,
  concurrency: number,
  total: number,
): Promise<{ samples: Sample[]; rps: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: 'user', content: 'Say something.' }],
    stream: true,
    max_tokens: 400,
  });
  // Warm up: connections open, code paths hot.
  await Promise.all(Array.from({ length: concurrency }, () => once(agent, url, body)));
  const samples: Sample[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        samples.push(await once(agent, url, body));
      }
    }),
  );
  const rps = (samples.length * 1000) / (performance.now() - t0);
  agent.destroy();
  return { samples, rps };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] as number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

function summary(s: { samples: Sample[]; rps: number }) {
  const fb = s.samples.map((x) => x.firstByteMs);
  const tot = s.samples.map((x) => x.totalMs);
  return {
    first_byte_p50_ms: r2(pct(fb, 50)),
    first_byte_p99_ms: r2(pct(fb, 99)),
    full_p50_ms: r2(pct(tot, 50)),
    full_p99_ms: r2(pct(tot, 99)),
    rps: Math.round(s.rps),
  };
}

export const e2eBench: Benchmark = {
  summary: 'added latency and throughput of client → proxy → worker over a direct backend',
  async run({ quick }) {
    const tokens = 200;
    const dir = mkdtempSync(join(tmpdir(), 'cocoon-bench-e2e-'));
    const children: ChildProcess[] = [];
    try {
      const backend = await start(['bench/fixed-backend-main.ts', '0', String(tokens)], /listening (\d+)/);
      children.push(backend.child);
      const backendUrl = `http://127.0.0.1:${backend.match}`;
      const [wp, cp] = [await freePort(), await freePort()];
      const rootFile = join(dir, 'root.json');
      writeFileSync(
        rootFile,
        JSON.stringify({
          proxies: [{ workers: `127.0.0.1:${wp}`, clients: `127.0.0.1:${cp}` }],
          proxy_hashes: [FAKE_TDX_IMAGE_HASH],
          worker_hashes: [FAKE_TDX_IMAGE_HASH],
          model_hashes: [createHash('sha256').update(BENCH_MODEL).digest('hex')],
        }),
      );
      const common = ['bin/cocoon.js'];
      const opts = ['--root-config', rootFile, '--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'];
      const proxy = await start(
        [
          ...common,
          'proxy',
          ...opts,
          '--dir',
          join(dir, 'p'),
          '--workers-port',
          `${wp}`,
          '--clients-port',
          `${cp}`,
          '--stats-port',
          '0',
        ],
        /proxy: workers on/,
      );
      children.push(proxy.child);
      const worker = await start(
        [
          ...common,
          'worker',
          ...opts,
          '--dir',
          join(dir, 'w'),
          '--backend',
          backendUrl,
          '--stats-port',
          '0',
          '--max-active',
          '1000',
        ],
        /worker: connected to proxy/,
      );
      children.push(worker.child);
      const apiPort = await freePort();
      const client = await start(
        [...common, 'client', ...opts, '--dir', join(dir, 'c'), '--port', `${apiPort}`],
        /client: connected to proxy/,
      );
      children.push(client.child);
      const direct = new URL(`${backendUrl}/v1/chat/completions`);
      const chain = new URL(`http://127.0.0.1:${apiPort}/v1/chat/completions`);
      const n1 = quick ? 50 : 400;
      const n64 = quick ? 640 : 6400;
      // Direct and chain alternate in halves so drift of a shared machine hits both alike.
      const run = async (url: URL, c: number, n: number) => {
        const a = await load(url, c, n / 2);
        const b = await load(url, c, n / 2);
        return { samples: [...a.samples, ...b.samples], rps: (a.rps + b.rps) / 2 };
      };
      const d1 = await run(direct, 1, n1);
      const c1 = await run(chain, 1, n1);
      const d64 = await run(direct, 64, n64);
      const c64 = await run(chain, 64, n64);
      const s = { d1: summary(d1), c1: summary(c1), d64: summary(d64), c64: summary(c64) };
      return {
        tokens_per_answer: tokens,
        added_p50_ms_c1: r2(s.c1.full_p50_ms - s.d1.full_p50_ms),
        added_first_byte_p50_ms_c1: r2(s.c1.first_byte_p50_ms - s.d1.first_byte_p50_ms),
        added_p99_ms_c1: r2(s.c1.full_p99_ms - s.d1.full_p99_ms),
        added_p50_ms_c64: r2(s.c64.full_p50_ms - s.d64.full_p50_ms),
        added_p99_ms_c64: r2(s.c64.full_p99_ms - s.d64.full_p99_ms),
        added_first_byte_p99_ms_c64: r2(s.c64.first_byte_p99_ms - s.d64.first_byte_p99_ms),
        throughput_ratio: r2(s.c64.rps / s.d64.rps),
        goals: { added_p50_ms_c1: 1.5, added_p99_ms_c64: 10, throughput_ratio: 0.5 },
        direct: { c1: s.d1, c64: s.d64 },
        chain: { c1: s.c1, c64: s.c64 },
        setup:
          'backend, proxy, worker and client each in its own process; fake TDX over real RA-TLS; streaming SSE',
      };
    } finally {
      for (const c of children) c.kill(process.env.COCOON_BENCH_PROFILE ? 'SIGINT' : 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
