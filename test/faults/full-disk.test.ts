// A full disk under the proxy's store: the test mounts a small tmpfs for the proxy's directory and fills it
// while the proxy serves, just after its first answers (when its store must still grow: later, LMDB reuses its
// own pages and a full disk no longer matters to it). The proxy stops, as it may not serve what it cannot
// account for, exits with a failure status and the reason (so a supervisor restarts it), and a new proxy
// cannot start on the full disk either; with space back it starts again on the same store and the network
// carries on. No answer is billed without being on disk, and afterwards the proxy's books and both nodes'
// signed amounts agree. Skips where tmpfs cannot be mounted (not root, or no mount rights).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import OpenAI from 'openai';
import { chatLoad } from '../support/chat-load.ts';
import { freePort, writeRootConfig } from '../support/local-root.ts';
import { NodeProcesses } from '../support/node-process.ts';
import { startTestEngine } from '../support/openai-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-disk-'));
const disk = join(dir, 'disk');
mkdirSync(disk);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', disk], { encoding: 'utf8' });
// fill() writes until the file system is full: only ever on the small tmpfs, never on the disk under it.
const fs = mounted.status === 0 ? statfsSync(disk) : undefined;
const size = fs ? fs.blocks * fs.bsize : 0;
const skip =
  mounted.status !== 0
    ? `cannot mount a tmpfs here: ${mounted.stderr?.trim() || mounted.error?.message}`
    : size > 8 * 1024 * 1024
      ? `the tmpfs mounted at ${disk} is ${size} bytes, not 6 MB`
      : false;
const nodes = new NodeProcesses();
after(() => {
  nodes.killAll();
  if (mounted.status === 0) spawnSync('umount', ['-l', disk]);
  rmSync(dir, { recursive: true, force: true });
});

const json = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A wait that does not keep the process alive once the test is over. */
const timeout = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** Writes zeros into `file` until the file system says it is full, down to the last byte. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const block = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

test("the proxy's disk fills up under load: it stops with the reason, and starts again once there is space", {
  skip,
}, async (t) => {
  const engine = await startTestEngine();
  try {
    const [wp, cp, ps, ws, api] = await Promise.all(Array.from({ length: 5 }, freePort));
    const rootFile = join(dir, 'root.json');
    await writeRootConfig(rootFile, {
      workers: `127.0.0.1:${wp}`,
      clients: `127.0.0.1:${cp}`,
      model: 'test-model',
      rootAddress: `0:${'12'.repeat(32)}`,
    });
    const common = ['--root-config', rootFile, '--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'];
    const proxyArgs = [
      ...['proxy', ...common, '--dir', join(disk, 'p'), '--workers-port', `${wp}`, '--clients-port', `${cp}`],
      ...['--stats-port', `${ps}`, '--pow-difficulty', '8'],
    ];
    let proxy = await nodes.start(proxyArgs, /proxy: workers on/);
    // Full before the first worker and client: the proxy's next commits need pages its store does not have yet.
    fill(join(disk, 'filler'));
    const worker = nodes.launch(
      ['worker', ...common, '--dir', join(dir, 'w'), '--backend', engine.url, '--stats-port', `${ws}`],
      /worker: connected/,
    );
    const client = nodes.launch(['client', ...common, '--dir', join(dir, 'c'), '--port', `${api}`], /API on/);
    await client.ready;

    const ai = new OpenAI({
      baseURL: `http://127.0.0.1:${api}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      timeout: 10_000,
    });
    const load = chatLoad(t, ai);
    const code = await Promise.race([
      new Promise<number | null>((r) => proxy.child.once('exit', r)),
      timeout(30_000).then(() => 'still running'),
    ]);
    assert.notEqual(code, 'still running', 'the proxy stops once its store cannot commit');
    assert.equal(code, 1, 'with a failure status');
    assert.match(
      proxy.stderr(),
      /proxy: stopped: the store could not commit: No space left on device/,
      'and says why',
    );
    await assert.rejects(
      nodes.start(
        proxyArgs.map((a) => (a === join(disk, 'p') ? join(disk, 'p2') : a)),
        /proxy: workers on/,
      ),
      /exited with 1[\s\S]*(No space left|ENOSPC|MDB_)/,
      'a proxy cannot start on the full disk',
    );
    const whileFull = load.ok;

    rmSync(join(disk, 'filler'));
    proxy = await nodes.start(proxyArgs, /proxy: workers on/);
    await worker.ready;
    await load.until(load.ok + 20, 15_000);
    await load.stop();
    assert.ok(load.failed > 0, 'requests failed while the proxy was down');
    assert.ok(whileFull <= 4, `${whileFull} answers were served on a store that could not commit`);

    type Stats = { clients: { committed: number }[]; workers: { committed: number }[] };
    let p = await json<Stats>(`http://127.0.0.1:${ps}/jsonstats`);
    let w = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${ws}/jsonstats`);
    let c = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${api}/jsonstats`);
    for (let i = 0; i < 100; i++) {
      if (
        p.clients[0]?.committed === c.proxies[0]?.signed_tokens &&
        p.workers[0]?.committed === w.proxies[0]?.signed_tokens
      )
        break;
      await sleep(50);
      p = await json<Stats>(`http://127.0.0.1:${ps}/jsonstats`);
      w = await json(`http://127.0.0.1:${ws}/jsonstats`);
      c = await json(`http://127.0.0.1:${api}/jsonstats`);
    }
    const committed = BigInt(p.clients[0]?.committed ?? -1);
    assert.equal(
      BigInt(c.proxies[0]?.signed_tokens ?? -1),
      committed,
      'the client holds what the proxy committed',
    );
    assert.equal(BigInt(w.proxies[0]?.signed_tokens ?? -1), BigInt(p.workers[0]?.committed ?? -2));
    assert.equal(BigInt(p.workers[0]?.committed ?? -1), committed, 'workers are paid for what clients pay');
    assert.ok(
      load.billed <= committed,
      `the app was billed ${load.billed}, more than was committed (${committed})`,
    );
    // Only requests in flight when the proxy stopped can be committed without their answer reaching the app.
    assert.ok(committed - load.billed <= 4n * 18n, `committed ${committed}, the app saw ${load.billed}`);
  } finally {
    await engine.close();
  }
});
