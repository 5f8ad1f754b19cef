// The chain goes away and comes back: the devnet process is killed with SIGKILL under load and started again on
// its state a few seconds later. Answers keep flowing meanwhile (inference does not wait for the chain), every
// request ends, and once the chain is back the charges and payouts the nodes could not send go out: the
// contracts end up agreeing with the proxy's books and the nodes' signed amounts to the nanoTON.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Address } from '@ton/core';
import OpenAI from 'openai';
import { openClient } from '../../src/chain/client.ts';
import { ClientContract } from '../../src/chain/client-contract.ts';
import { ProxyContract } from '../../src/chain/proxy.ts';
import { WorkerContract } from '../../src/chain/worker.ts';
import { localRoot, localWallet } from '../../src/node/local-chain.ts';
import { FAKE_TDX_IMAGE_HASH } from '../../src/tee/fake-tdx.ts';
import { chatLoad } from '../support/chat-load.ts';
import { freePort } from '../support/local-root.ts';
import { NodeProcesses } from '../support/node-process.ts';
import { startTestEngine } from '../support/openai-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-outage-'));
const nodes = new NodeProcesses();
after(() => {
  nodes.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const json = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the devnet killed under load and back on its state: answers keep flowing, the chain catches up exactly', async (t) => {
  const engine = await startTestEngine();
  try {
    const [chainPort, wp, cp, ps, ws, api] = await Promise.all(Array.from({ length: 6 }, freePort));
    const devnetArgs = ['devnet', '--dir', join(dir, 'devnet'), '--port', `${chainPort}`];
    let devnet = await nodes.start(devnetArgs, /devnet: (\S+)/);
    const endpoint = devnet.match;
    const chain = openClient({ endpoint });
    const operator = await localWallet(chain, endpoint, join(dir, 'operator'));
    const root = await localRoot({
      client: chain,
      wallet: operator,
      dir: join(dir, 'operator'),
      proxy: { workers: `127.0.0.1:${wp}`, clients: `127.0.0.1:${cp}` },
      allow: {
        images: [FAKE_TDX_IMAGE_HASH],
        models: [createHash('sha256').update('test-model').digest('hex')],
      },
    });
    root.close();
    const params = root.current.params;
    for (const n of ['p', 'w', 'c']) await localWallet(chain, endpoint, join(dir, n));
    const common = (n: string) => [
      ...['--root', root.current.rootAddress as string, '--endpoint', endpoint],
      ...['--wallet', join(dir, n, 'wallet.json'), '--dir', join(dir, n)],
      ...['--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'],
    ];
    await nodes.start(
      [
        ...['proxy', ...common('p'), '--workers-port', `${wp}`, '--clients-port', `${cp}`],
        ...['--stats-port', `${ps}`, '--pow-difficulty', '8', '--charge-threshold', '1'],
      ],
      /proxy: workers on/,
    );
    await nodes.start(
      [
        ...['worker', ...common('w'), '--backend', engine.url, '--stats-port', `${ws}`],
        ...['--payout-threshold', '1'],
      ],
      /worker: connected/,
    );
    await nodes.start(['client', ...common('c'), '--port', `${api}`], /client: connected/);

    const ai = new OpenAI({
      baseURL: `http://127.0.0.1:${api}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      timeout: 15_000,
    });
    const load = chatLoad(t, ai);
    await load.until(20);

    devnet.child.kill('SIGKILL');
    await new Promise((r) => devnet.child.once('exit', r));
    const before = load.ok;
    await sleep(4000);
    const duringOutage = load.ok - before;
    devnet = await nodes.start(devnetArgs, /devnet: (\S+)/);
    await load.until(load.ok + 20, 10_000);
    await load.stop();
    assert.ok(duringOutage >= 10, `only ${duringOutage} answers while the chain was away`);
    assert.equal(load.failed, 0, 'no request failed');

    type Books = {
      status: { sc_address: string };
      clients: { committed: number; scAddress: string }[];
      workers: { committed: number; scAddress: string }[];
    };
    let books = await json<Books>(`http://127.0.0.1:${ps}/jsonstats`);
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
      await sleep(500);
    }
    const committed = BigInt(books.clients[0]?.committed ?? -1);
    assert.ok(cd && wd);
    assert.equal(load.billed, committed, 'the app was billed what the proxy committed');
    assert.equal(cd.tokensUsed, committed, 'the client contract was charged for it, once');
    assert.equal(wd.tokens, committed, 'the worker contract paid for it, once');
    const pd = await chain
      .open(ProxyContract.createFromAddress(Address.parse(books.status.sc_address)))
      .getProxyData();
    assert.equal(pd.balance, committed * (params.pricePerToken - params.workerFeePerToken));
    const c = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${api}/jsonstats`);
    const w = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${ws}/jsonstats`);
    assert.equal(BigInt(c.proxies[0]?.signed_tokens ?? -1), committed);
    assert.equal(BigInt(w.proxies[0]?.signed_tokens ?? -1), committed);
  } finally {
    await engine.close();
  }
});
