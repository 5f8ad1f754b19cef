// More than one machine: the test builds its own hosts with network namespaces — a hub namespace with a bridge and
// one namespace per node, joined by veth pairs, with private addresses that exist only inside them — and runs the
// proxy, two workers (the embedded model) and a client on different hosts, the root listing the proxy at its real
// address. It skips, saying why, where the machine does not allow namespaces.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { FAKE_TDX_IMAGE_HASH } from '../src/tee/fake-tdx.ts';

const bin = new URL('../bin/cocoon.js', import.meta.url).pathname;
const tag = `cc${process.pid % 100000}`;
const hosts = { proxy: '10.77.0.1', w1: '10.77.0.2', w2: '10.77.0.3', client: '10.77.0.4' } as const;
type Host = keyof typeof hosts;
const ns = (h: Host | 'hub') => `${tag}-${h}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function canNamespace(): string | undefined {
  try {
    ip('netns', 'add', `${tag}-probe`);
    ip('netns', 'del', `${tag}-probe`);
    return undefined;
  } catch (err) {
    return `network namespaces are not allowed here (${(err as Error).message.split('\n')[0]})`;
  }
}

const skip = canNamespace();
const dir = mkdtempSync(join(tmpdir(), 'cocoon-multihost-'));
const children: ChildProcess[] = [];
let built = false;

after(() => {
  for (const c of children) c.kill('SIGKILL');
  if (built) {
    for (const h of [...Object.keys(hosts), 'hub'] as (Host | 'hub')[]) {
      try {
        ip('netns', 'del', ns(h));
      } catch {
        // already gone
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function build(): void {
  built = true;
  ip('netns', 'add', ns('hub'));
  ip('-n', ns('hub'), 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', ns('hub'), 'link', 'set', 'br0', 'up');
  for (const [h, addr] of Object.entries(hosts) as [Host, string][]) {
    ip('netns', 'add', ns(h));
    ip('-n', ns('hub'), 'link', 'add', `v-${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(h));
    ip('-n', ns('hub'), 'link', 'set', `v-${h}`, 'master', 'br0', 'up');
    ip('-n', ns(h), 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ip('-n', ns(h), 'link', 'set', 'eth0', 'up');
    ip('-n', ns(h), 'link', 'set', 'lo', 'up');
  }
}

function run(host: Host, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns(host), process.execPath, bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${host}: not ready: ${err}`)), 90_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      if (ready.test(l)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${host} exited ${code}: ${err}`)));
  });
}

/** Runs a small script inside a host's namespace and returns its stdout. */
function inside(host: Host, script: string): string {
  return execFileSync(
    'ip',
    ['netns', 'exec', ns(host), process.execPath, '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

test('proxy, two workers and a client on four hosts talk over their real addresses', { skip }, async () => {
  build();
  const rootFile = join(dir, 'root.json');
  writeFileSync(
    rootFile,
    JSON.stringify({
      proxies: [{ workers: `${hosts.proxy}:11001`, clients: `${hosts.proxy}:11002` }],
      proxy_hashes: [FAKE_TDX_IMAGE_HASH],
      worker_hashes: [FAKE_TDX_IMAGE_HASH],
      model_hashes: [createHash('sha256').update('cocoon-demo').digest('hex')],
    }),
  );
  const common = [
    '--root-config',
    rootFile,
    '--tee',
    'fake_tdx',
    '--peer-policy',
    'fake_tdx',
    '--log-level',
    'warn',
  ];
  await run(
    'proxy',
    ['proxy', ...common, '--dir', join(dir, 'p'), '--host', '0.0.0.0', '--stats-port', '11000'],
    /proxy: workers on/,
  );
  await Promise.all(
    (['w1', 'w2'] as const).map((h) =>
      run(
        h,
        ['worker', ...common, '--dir', join(dir, h), '--model', 'embedded', '--stats-port', '12000'],
        /worker: connected to proxy 10\.77\.0\.1:11001/,
      ),
    ),
  );
  await run(
    'client',
    ['client', ...common, '--dir', join(dir, 'c'), '--port', '10000'],
    /client: connected to proxy 10\.77\.0\.1:11002/,
  );

  // From the client's host, as an app there would: eight answers, which the proxy spreads over both workers.
  const out = inside(
    'client',
    `const rs = await Promise.all(Array.from({ length: 8 }, () => fetch('http://127.0.0.1:10000/v1/chat/completions', {
       method: 'POST', headers: { 'content-type': 'application/json' },
       body: JSON.stringify({ model: 'cocoon-demo', messages: [{ role: 'user', content: 'What is the capital of Peru?' }] }),
     }).then((r) => r.json())));
     console.log(JSON.stringify(rs.map((r) => r.choices?.[0]?.message?.content ?? r.error?.message)));`,
  );
  const answers = JSON.parse(out) as string[];
  assert.equal(answers.length, 8);
  for (const a of answers) assert.match(a, /Lima/);

  // The proxy saw both workers from their own addresses.
  const stats = JSON.parse(
    inside(
      'proxy',
      "console.log(JSON.stringify(await (await fetch('http://127.0.0.1:11000/jsonstats')).json()))",
    ),
  ) as { worker_connections: { queries: number }[] };
  assert.equal(stats.worker_connections.length, 2);
  assert.ok(
    stats.worker_connections.every((w) => w.queries > 0),
    JSON.stringify(stats.worker_connections),
  );
  // A plain TCP connection from another host to the proxy's client port meets the proof-of-work challenge before
  // any TLS: nothing answers a peer that has not paid it.
  const probe = inside(
    'w1',
    "const s = (await import('node:net')).connect(11002, '10.77.0.1'); s.once('data', (d) => { console.log(d.length); s.destroy(); });",
  );
  assert.ok(Number(probe) > 0, 'the PoW challenge comes first');
});
