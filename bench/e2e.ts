// What the three hops cost: the same streaming load sent to a fast backend directly, through nginx as a TLS
// reverse proxy (the floor for one more hop over TLS, when Debian's nginx is installed), and through
// client → proxy → worker, each node its own process (`cocoon proxy|worker|client` on a JSON root config, fake
// TDX, real RA-TLS), measured in one run on one machine by one load generator. Reports first-byte and
// full-response latency at concurrency 1 and 64 and requests per second, the added latency over direct, what
// sealing end to end costs (the chain is sealed, as by default; a second client with --seal off is the same chain in
// plain, measured alongside), and (with `detail`) the latency distributions and a throughput sweep over concurrency for the charts.
// COCOON_BENCH_PROFILE=DIR writes a CPU profile of every process into DIR.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Benchmark } from '../src/cli/commands/bench.ts';
import { writeLocalRootConfig } from '../src/node/local-root-config.ts';
import { BENCH_MODEL } from './fixed-backend.ts';
import { findNginx, type Nginx, startNginx } from './nginx.ts';

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

/** Where the load goes: plain HTTP, or HTTPS trusting `ca`. */
interface Target {
  url: URL;
  ca?: Buffer;
}

type AnyAgent = Agent | HttpsAgent;

function agentFor(t: Target, concurrency: number): AnyAgent {
  return t.ca
    ? new HttpsAgent({ keepAlive: true, maxSockets: concurrency, ca: t.ca })
    : new Agent({ keepAlive: true, maxSockets: concurrency });
}

/** One streaming chat completion; times to the first body byte and to the end. */
function once(agent: AnyAgent, t: Target, body: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    const req = (t.ca ? httpsRequest : request)(
      t.url,
      {
        method: 'POST',
        agent: agent as Agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () =>
            reject(new Error(`HTTP ${res.statusCode} from ${t.url.host}: ${text.slice(0, 300)}`)),
          );
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

/** Failed requests by what failed them (a benchmark reports its errors rather than stopping at the first). */
const errors = new Map<string, number>();
const failed = (err: unknown) => {
  const m = (err as Error).message.replace(/"id":"[^"]*"/g, '');
  errors.set(m, (errors.get(m) ?? 0) + 1);
};

/**
 * Two paths one request at a time, alternating request by request (which goes first alternates too): their
 * difference is what one path adds over the other with the machine's drift cancelled out.
 */
async function paired(a: Target, b: Target, n: number): Promise<[Sample[], Sample[]]> {
  const [ea, eb] = [agentFor(a, 1), agentFor(b, 1)];
  const body = JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: 'user', content: 'Say something.' }],
    stream: true,
    max_tokens: 400,
  });
  const sa: Sample[] = [];
  const sb: Sample[] = [];
  const one = (agent: AnyAgent, t: Target, into: Sample[]) =>
    once(agent, t, body).then((s) => void into.push(s), failed);
  for (let i = 0; i < 10; i++) await Promise.all([one(ea, a, []), one(eb, b, [])]);
  for (let i = 0; i < n; i++) {
    if (i % 2) {
      await one(ea, a, sa);
      await one(eb, b, sb);
    } else {
      await one(eb, b, sb);
      await one(ea, a, sa);
    }
  }
  ea.destroy();
  eb.destroy();
  return [sa, sb];
}

/** `concurrency` loops sending requests until `total` are done; returns samples and requests per second. */
async function load(
  url: Target,
  concurrency: number,
  total: number,
): Promise<{ samples: Sample[]; rps: number }> {
  const agent = agentFor(url, concurrency);
  const body = JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: 'user', content: 'Say something.' }],
    stream: true,
    max_tokens: 400,
  });
  // Warm up: connections open, code paths hot.
  await Promise.all(Array.from({ length: concurrency }, () => once(agent, url, body).catch(failed)));
  const samples: Sample[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        try {
          samples.push(await once(agent, url, body));
        } catch (err) {
          failed(err);
        }
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

/** Full-response latency at every whole percentile, 0 to 100: the distribution, for a CDF chart. */
function quantiles(samples: Sample[]): number[] {
  const s = samples.map((x) => x.totalMs).sort((a, b) => a - b);
  return Array.from({ length: 101 }, (_, p) =>
    r2(s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!),
  );
}

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
  async run({ quick, detail }) {
    errors.clear();
    const tokens = 200;
    const dir = mkdtempSync(join(tmpdir(), 'cocoon-bench-e2e-'));
    const children: ChildProcess[] = [];
    let nginxProc: Nginx | undefined;
    try {
      const backend = await start(['bench/fixed-backend-main.ts', '0', String(tokens)], /listening (\d+)/);
      children.push(backend.child);
      const backendUrl = `http://127.0.0.1:${backend.match}`;
      const [wp, cp] = [await freePort(), await freePort()];
      const rootFile = join(dir, 'root.json');
      await writeLocalRootConfig(rootFile, {
        workers: `127.0.0.1:${wp}`,
        clients: `127.0.0.1:${cp}`,
        model: BENCH_MODEL,
      });
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
      // The same client with sealing off: what sealing costs, side by side.
      const plainPort = await freePort();
      const plainClient = await start(
        [...common, 'client', ...opts, '--dir', join(dir, 'c2'), '--port', `${plainPort}`, '--seal', 'off'],
        /client: connected to proxy/,
      );
      children.push(plainClient.child);
      const plain: Target = { url: new URL(`http://127.0.0.1:${plainPort}/v1/chat/completions`) };
      const direct: Target = { url: new URL(`${backendUrl}/v1/chat/completions`) };
      const chain: Target = { url: new URL(`http://127.0.0.1:${apiPort}/v1/chat/completions`) };
      let nginx: Target | undefined;
      let nginxSkipped: string | undefined;
      if (findNginx()) {
        nginxProc = await startNginx(join(dir, 'nginx'), Number(backend.match), await freePort());
        nginx = { url: new URL(`${nginxProc.url}/v1/chat/completions`), ca: nginxProc.ca };
      } else nginxSkipped = 'nginx is not installed (apt-get install -y nginx-light)';
      const n1 = quick ? 50 : 400;
      const n64 = quick ? 640 : 6400;
      // The paths alternate in halves, the second in reverse order, so that drift of a shared machine and what one
      // path leaves behind for the next (nginx's closing connections) hit them alike.
      const run = async (c: number, n: number) => {
        const paths: [string, Target][] = [
          ['direct', direct],
          ['plain', plain],
          ['chain', chain],
        ];
        if (nginx) paths.splice(1, 0, ['nginx', nginx]);
        const out: Record<string, { samples: Sample[]; rps: number }> = {};
        for (let half = 0; half < 2; half++)
          for (const [name, t] of half ? [...paths].reverse() : paths) {
            const r = await load(t, c, n / 2);
            const prev = out[name];
            out[name] = prev ? { samples: [...prev.samples, ...r.samples], rps: (prev.rps + r.rps) / 2 } : r;
          }
        return out as Record<'direct' | 'chain' | 'plain', { samples: Sample[]; rps: number }> &
          Partial<Record<'nginx', { samples: Sample[]; rps: number }>>;
      };
      const r1 = await run(1, n1);
      const r64 = await run(64, n64);
      const s = {
        d1: summary(r1.direct),
        c1: summary(r1.chain),
        d64: summary(r64.direct),
        c64: summary(r64.chain),
      };
      const out: Record<string, unknown> = {
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
      };
      // The chain above is sealed end to end (the default); the same chain in plain, measured alongside, and at c1
      // again request by request against it.
      const p64 = summary(r64.plain);
      const [sealedPaired, plainPaired] = await paired(chain, plain, quick ? 100 : 600);
      const sp = summary({ samples: sealedPaired, rps: 0 });
      const p1 = summary({ samples: plainPaired, rps: 0 });
      const change = (a: number, b: number) => r2(((a - b) / b) * 100);
      out.sealed = {
        method: 'c1: sealed and plain requests alternating one by one; c64: the load runs above',
        added_p50_ms_c1: r2(sp.full_p50_ms - p1.full_p50_ms),
        added_p50_pct_c1: change(sp.full_p50_ms, p1.full_p50_ms),
        added_p99_pct_c1: change(sp.full_p99_ms, p1.full_p99_ms),
        added_p50_pct_c64: change(s.c64.full_p50_ms, p64.full_p50_ms),
        throughput_ratio_c64: r2(s.c64.rps / p64.rps),
        goal: { added_p50_pct_c1: 5 },
        sealed_c1: sp,
        plain: { c1: p1, c64: p64 },
      };
      if (r1.nginx && r64.nginx) {
        const n1s = summary(r1.nginx);
        const n64s = summary(r64.nginx);
        out.nginx = { c1: n1s, c64: n64s };
        out.nginx_added_p50_ms_c1 = r2(n1s.full_p50_ms - s.d1.full_p50_ms);
        out.nginx_added_p99_ms_c64 = r2(n64s.full_p99_ms - s.d64.full_p99_ms);
        out.nginx_throughput_ratio = r2(n64s.rps / s.d64.rps);
      } else out.nginx_skipped = nginxSkipped;
      if (detail) {
        const paths: [string, Target][] = [
          ['direct', direct],
          ['chain', chain],
        ];
        if (nginx) paths.push(['nginx', nginx]);
        out.cdf_ms = {
          c1: Object.fromEntries(paths.map(([n]) => [n, quantiles(r1[n as 'direct']!.samples)])),
          c64: Object.fromEntries(paths.map(([n]) => [n, quantiles(r64[n as 'direct']!.samples)])),
        };
        const sweep: Record<string, number>[] = [];
        for (const c of quick ? [1, 16, 64] : [1, 4, 16, 64, 256]) {
          const row: Record<string, number> = { concurrency: c };
          const n = Math.min(4000, Math.max(quick ? 100 : 300, c * (quick ? 8 : 30)));
          for (const [name, t] of paths) row[`${name}_rps`] = Math.round((await load(t, c, n)).rps);
          sweep.push(row);
        }
        out.sweep = sweep;
      }
      out.errors = Object.fromEntries(errors);
      out.setup =
        'backend, proxy, worker and client each in its own process; fake TDX over real RA-TLS; streaming SSE; ' +
        'chain sealed end to end (HPKE, AES-256-GCM), plain: a second client with --seal off; ' +
        'nginx: TLS 1.3 reverse proxy, unbuffered, keep-alive upstream; one load generator for all paths';
      return out;
    } finally {
      await nginxProc?.close();
      for (const c of children) c.kill(process.env.COCOON_BENCH_PROFILE ? 'SIGINT' : 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
