// The proxy killed with SIGKILL in the middle of a load, and started again on the same store: its workers and
// clients come back to it (no rollback is detected, because nothing signed was ever uncommitted), and afterwards
// proxy, client and worker agree on the signed amounts exactly; what the app was billed is never more than what
// the proxy committed, and the difference is bounded by the requests cut by the kill.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Address } from '@ton/core';
import OpenAI from 'openai';
import { openClient } from '../src/chain/client.ts';
import { ClientContract } from '../src/chain/client-contract.ts';
import { Devnet } from '../src/chain/devnet.ts';
import { ProxyContract } from '../src/chain/proxy.ts';
import { WorkerContract } from '../src/chain/worker.ts';
import { localRoot, localWallet } from '../src/node/local-chain.ts';
import { FAKE_TDX_IMAGE_HASH } from '../src/tee/fake-tdx.ts';
import { chatLoad } from './support/chat-load.ts';
import { freePort, writeRootConfig } from './support/local-root.ts';
import { NodeProcesses } from './support/node-process.ts';
import { startTestEngine } from './support/openai-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-crash-'));
const nodes = new NodeProcesses();
after(() => {
  nodes.killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a node and gives its process once it printed `ready`. */
const start = async (args: string[], ready: RegExp) => (await nodes.start(args, ready)).child;

const json = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;

test('kill -9 of the proxy under load: after a restart on its store, proxy, client and worker agree to the token', async (t) => {
  const engine = await startTestEngine();
  try {
    const [wp, cp, ps, ws, api] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const rootFile = join(dir, 'root.json');
    const clients = `127.0.0.1:${cp}`;
    await writeRootConfig(rootFile, {
      workers: `127.0.0.1:${wp}`,
      clients,
      model: 'test-model',
      rootAddress: `0:${'ab'.repeat(32)}`,
    });
    const common = ['--root-config', rootFile, '--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'];
    const proxyArgs = [
      'proxy',
      ...common,
      '--dir',
      join(dir, 'p'),
      '--workers-port',
      `${wp}`,
      '--clients-port',
      `${cp}`,
      '--stats-port',
      `${ps}`,
      '--pow-difficulty',
      '8',
    ];
    let proxy = await start(proxyArgs, /proxy: workers on/);
    await start(
      ['worker', ...common, '--dir', join(dir, 'w'), '--backend', engine.url, '--stats-port', `${ws}`],
      /worker: connected/,
    );
    await start(['client', ...common, '--dir', join(dir, 'c'), '--port', `${api}`], /client: connected/);

    const ai = new OpenAI({
      baseURL: `http://127.0.0.1:${api}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      timeout: 10_000,
    });
    const load = chatLoad(t, ai);
    await load.until(40);
    proxy.kill('SIGKILL');
    await new Promise((r) => proxy.once('exit', r));
    proxy = await start(proxyArgs, /proxy: workers on/);
    await load.until(load.ok + 40, 15_000);
    await load.stop();
    const { billed, failed } = load;

    type Stats = {
      clients: { committed: number; tokens: number }[];
      workers: { committed: number; tokens: number }[];
    };
    const settle = async () => {
      for (let i = 0; i < 100; i++) {
        const p = await json<Stats>(`http://127.0.0.1:${ps}/jsonstats`);
        const w = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${ws}/jsonstats`);
        const c = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${api}/jsonstats`);
        const done =
          p.clients[0]?.committed === c.proxies[0]?.signed_tokens &&
          p.workers[0]?.committed === w.proxies[0]?.signed_tokens;
        if (done || i === 99) return { p, w, c };
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('unreachable');
    };
    const { p, w, c } = await settle();
    const committed = BigInt(p.clients[0]?.committed ?? -1);
    assert.equal(
      BigInt(c.proxies[0]?.signed_tokens ?? -1),
      committed,
      'the client holds a charge for what the proxy committed',
    );
    assert.equal(
      BigInt(w.proxies[0]?.signed_tokens ?? -1),
      BigInt(p.workers[0]?.committed ?? -2),
      'the worker holds a payout for what the proxy committed',
    );
    assert.equal(
      BigInt(p.workers[0]?.committed ?? -1),
      committed,
      'what clients pay for is what workers are paid for',
    );
    assert.ok(
      billed <= committed,
      `the app was billed ${billed}, more than the proxy committed (${committed})`,
    );
    // Only requests cut by the kill can be committed without their last answer reaching the app.
    assert.ok(
      committed - billed <= 4n * 18n,
      `committed ${committed}, the app saw ${billed} (${failed} failed)`,
    );
  } finally {
    await engine.close();
  }
});

test('kill -9 of the proxy during a run on the devnet: after settlement the chain agrees with every node to the nanoTON', async (t) => {
  const devnet = await Devnet.open({});
  const endpoint = await devnet.listen(0);
  const engine = await startTestEngine();
  const sub = join(dir, 'chain');
  try {
    const chain = openClient({ endpoint });
    const [wp, cp, ps, ws, api] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const operator = await localWallet(chain, endpoint, join(sub, 'operator'));
    const root = await localRoot({
      client: chain,
      wallet: operator,
      dir: join(sub, 'operator'),
      proxy: { workers: `127.0.0.1:${wp}`, clients: `127.0.0.1:${cp}` },
      allow: {
        images: [FAKE_TDX_IMAGE_HASH],
        models: [createHash('sha256').update('test-model').digest('hex')],
      },
    });
    root.close();
    const R = root.current.rootAddress as string;
    // Each node has its own wallet (one wallet cannot be driven by three processes at once).
    for (const n of ['p', 'w', 'c']) await localWallet(chain, endpoint, join(sub, n));
    const common = (n: string) => [
      '--root',
      R,
      '--endpoint',
      endpoint,
      '--wallet',
      join(sub, n, 'wallet.json'),
      '--dir',
      join(sub, n),
      '--tee',
      'fake_tdx',
      '--peer-policy',
      'fake_tdx',
    ];
    const proxyArgs = [
      'proxy',
      ...common('p'),
      '--workers-port',
      `${wp}`,
      '--clients-port',
      `${cp}`,
      '--stats-port',
      `${ps}`,
      '--pow-difficulty',
      '8',
      '--charge-threshold',
      '1',
    ];
    let proxy = await start(proxyArgs, /proxy: workers on/);
    await start(
      ['worker', ...common('w'), '--backend', engine.url, '--stats-port', `${ws}`, '--payout-threshold', '1'],
      /worker: connected/,
    );
    await start(['client', ...common('c'), '--port', `${api}`], /client: connected/);

    const ai = new OpenAI({
      baseURL: `http://127.0.0.1:${api}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      timeout: 10_000,
    });
    const load = chatLoad(t, ai);
    await load.until(30);
    proxy.kill('SIGKILL');
    await new Promise((r) => proxy.once('exit', r));
    proxy = await start(proxyArgs, /proxy: workers on/);
    await load.until(load.ok + 30, 20_000);
    await load.stop();
    const { billed } = load;

    // Settlement runs by itself (thresholds of 1 nanoTON): wait until the chain has caught up with the books.
    type Books = {
      status: { sc_address: string };
      clients: { committed: number; scAddress: string }[];
      workers: { committed: number; scAddress: string }[];
    };
    let books = await json<Books>(`http://127.0.0.1:${ps}/jsonstats`);
    const params = root.current.params;
    let cd: Awaited<ReturnType<ClientContract['getClientData']>> | undefined;
    let wd: Awaited<ReturnType<WorkerContract['getWorkerData']>> | undefined;
    for (let i = 0; i < 120; i++) {
      books = await json<Books>(`http://127.0.0.1:${ps}/jsonstats`);
      const c = books.clients[0];
      const w = books.workers[0];
      if (c && w) {
        cd = await chain.open(ClientContract.createFromAddress(Address.parse(c.scAddress))).getClientData();
        wd = await chain.open(WorkerContract.createFromAddress(Address.parse(w.scAddress))).getWorkerData();
        if (cd.tokensUsed === BigInt(c.committed) && wd.tokens === BigInt(w.committed)) break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const committed = BigInt(books.clients[0]?.committed ?? -1);
    assert.ok(cd && wd);
    assert.equal(cd.tokensUsed, committed, 'the client contract was charged for what the proxy committed');
    assert.equal(
      wd.tokens,
      BigInt(books.workers[0]?.committed ?? -1),
      'the worker contract paid what the proxy committed',
    );
    assert.equal(BigInt(books.workers[0]?.committed ?? -1), committed);
    assert.equal(
      cd.balance,
      2n * params.minClientStake - committed * params.pricePerToken,
      'the client paid exactly that',
    );
    const pd = await chain
      .open(ProxyContract.createFromAddress(Address.parse(books.status.sc_address)))
      .getProxyData();
    assert.equal(
      pd.balance,
      committed * (params.pricePerToken - params.workerFeePerToken),
      'and the proxy kept its commission',
    );
    assert.ok(
      billed <= committed && committed - billed <= 4n * 18n,
      `committed ${committed}, the app saw ${billed}`,
    );
  } finally {
    await engine.close();
    await devnet.close();
  }
});

test('kill -9 of the worker and of the client under load: after their restarts, every signed amount still agrees', async (t) => {
  const engine = await startTestEngine();
  const sub = join(dir, 'nodes');
  try {
    const [wp, cp, ps, ws, api] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const rootFile = join(dir, 'root-nodes.json');
    const clients = `127.0.0.1:${cp}`;
    await writeRootConfig(rootFile, {
      workers: `127.0.0.1:${wp}`,
      clients,
      model: 'test-model',
      rootAddress: `0:${'cd'.repeat(32)}`,
    });
    const common = ['--root-config', rootFile, '--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'];
    await start(
      [
        'proxy',
        ...common,
        '--dir',
        join(sub, 'p'),
        '--workers-port',
        `${wp}`,
        '--clients-port',
        `${cp}`,
        '--stats-port',
        `${ps}`,
        '--pow-difficulty',
        '8',
      ],
      /proxy: workers on/,
    );
    const workerArgs = [
      'worker',
      ...common,
      '--dir',
      join(sub, 'w'),
      '--backend',
      engine.url,
      '--stats-port',
      `${ws}`,
    ];
    const clientArgs = ['client', ...common, '--dir', join(sub, 'c'), '--port', `${api}`];
    let worker = await start(workerArgs, /worker: connected/);
    let client = await start(clientArgs, /client: connected/);

    const ai = new OpenAI({
      baseURL: `http://127.0.0.1:${api}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      timeout: 10_000,
    });
    const load = chatLoad(t, ai);
    await load.until(20);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    worker = await start(workerArgs, /worker: connected/);
    await load.until(load.ok + 20);
    client.kill('SIGKILL');
    await new Promise((r) => client.once('exit', r));
    client = await start(clientArgs, /client: connected/);
    await load.until(load.ok + 20);
    await load.stop();

    type Books = { clients: { committed: number }[]; workers: { committed: number }[] };
    let agreed = false;
    let last = '';
    for (let i = 0; i < 100 && !agreed; i++) {
      const p = await json<Books>(`http://127.0.0.1:${ps}/jsonstats`);
      const w = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${ws}/jsonstats`);
      const c = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${api}/jsonstats`);
      last = JSON.stringify({
        p: [p.clients[0]?.committed, p.workers[0]?.committed],
        w: w.proxies[0]?.signed_tokens,
        c: c.proxies[0]?.signed_tokens,
      });
      agreed =
        p.clients[0]?.committed === c.proxies[0]?.signed_tokens &&
        p.workers[0]?.committed === w.proxies[0]?.signed_tokens &&
        p.clients[0]?.committed === p.workers[0]?.committed;
      if (!agreed) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(agreed, `books and signed amounts differ: ${last}`);
  } finally {
    await engine.close();
  }
});
