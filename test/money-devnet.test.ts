// The money loop on the devnet: a root with the contract codes, a proxy that deploys and stakes its contract, a
// client that deploys and funds its own, a worker with its contract; requests of random sizes, streamed or not,
// some failing mid-way; then settlement. Client, proxy, worker and the chain must agree to the nanoTON, and the
// client's spending must equal the worker's earnings plus the proxy's commission.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
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
import { ChainAgent } from '../src/node/chain-agent.ts';
import { createNodeIdentity } from '../src/node/identity.ts';
import { localRoot, localWallet } from '../src/node/local-chain.ts';
import { startLocalNetwork } from '../src/node/network.ts';
import { ProxyNode } from '../src/node/proxy/proxy.ts';
import { RootWatcher } from '../src/node/root-config.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { Store } from '../src/store/store.ts';
import { startTestEngine } from './support/openai-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-money-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('240 requests of random sizes, streamed or not, some failing mid-way: client, proxy, worker and chain agree to the nanoTON', async () => {
  const devnet = await Devnet.open({});
  const endpoint = await devnet.listen(0);
  const engine = await startTestEngine();
  const client = openClient({ endpoint });
  const wallet = await localWallet(client, endpoint, dir);
  const agent = new ChainAgent(client, wallet);
  const owner = wallet.contract.address.toString();
  const net = await startLocalNetwork({
    workers: [
      { engine: new HttpEngine({ url: engine.url }), model: 'ok' },
      { engine: new HttpEngine({ url: engine.url }), model: 'disconnect' },
    ],
    powDifficulty: 4,
    chain: agent,
    // Settle on demand below (thresholds out of reach of the periodic checks).
    chargeThreshold: 10n ** 18n,
    payoutThreshold: 10n ** 18n,
    proxyOwner: owner,
    clientOwner: owner,
    workerOwner: () => owner,
    root: (proxy, allow) => localRoot({ client, wallet, dir, proxy, allow }),
  });
  try {
    const ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'x', maxRetries: 0 });
    let billedNano = 0n;
    let failures = 0;
    const one = async (i: number) => {
      const model = i % 7 === 3 ? 'disconnect' : 'ok';
      const max_tokens = 10 + ((i * 37) % 300);
      try {
        if (i % 2) {
          const r = await ai.chat.completions.create({
            model,
            messages: [{ role: 'user', content: 'x'.repeat(i % 50) }],
            max_tokens,
          });
          billedNano += BigInt((r.usage as unknown as { total_cost: number }).total_cost);
        } else {
          const s = await ai.chat.completions.create({
            model,
            messages: [{ role: 'user', content: 'y' }],
            max_tokens,
            stream: true,
            stream_options: { include_usage: true },
          });
          for await (const c of s)
            if (c.usage) billedNano += BigInt((c.usage as unknown as { total_cost: number }).total_cost);
        }
      } catch {
        failures++;
      }
    };
    for (let i = 0; i < 240; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => one(i + k)));
    assert.ok(failures > 0 && failures < 80, `${failures} failures`);

    // Settle: the proxy charges the client contract, the worker cashes out its newest payout.
    const proxy = net.proxy;
    const settlement = proxy.settlement;
    assert.ok(settlement);
    const [clientAcc] = proxy.accounts.all('client');
    assert.ok(clientAcc);
    const st = await settlement.refresh(clientAcc.scAddress);
    assert.ok(st);
    assert.equal(await settlement.maybeCharge(clientAcc, st, true), true);
    const worker = net.workers[0];
    const session = worker?.proxies[0];
    assert.ok(worker && session);
    for (
      let i = 0;
      i < 100 &&
      session.payments.tokens <
        (proxy.accounts.all('worker').find((w) => w.scAddress === session.workerScAddress)?.committed ?? 0n);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await worker.cashOut(session, true), true);

    const price = net.root.current.params.pricePerToken;
    const fee = net.root.current.params.workerFeePerToken;
    const cc = agent.open(ClientContract.createFromAddress(Address.parse(clientAcc.scAddress)));
    const onChainClient = await cc.getClientData();
    const tokens = clientAcc.committed;
    // What the app saw billed = what the proxy committed = what the chain charged.
    assert.equal(billedNano, tokens * price);
    assert.equal(onChainClient.tokensUsed, tokens);
    assert.equal(onChainClient.balance, 2n * net.root.current.params.minClientStake - tokens * price);
    // Every token the client paid for was served by the one worker that finished requests.
    const wc = agent.open(WorkerContract.createFromAddress(Address.parse(session.workerScAddress)));
    const onChainWorker = await wc.getWorkerData();
    assert.equal(onChainWorker.tokens, tokens);
    // The proxy contract keeps the commission: price − fee per token, credited when the worker cashed out.
    const pc = agent.open(ProxyContract.createFromAddress(Address.parse(proxy.scAddress)));
    const proxyData = await pc.getProxyData();
    assert.equal(proxyData.balance, tokens * (price - fee));
    // client spent = worker earned + proxy commission
    assert.equal(tokens * price, tokens * fee + proxyData.balance);
  } finally {
    await net.close();
    await engine.close();
    await devnet.close();
  }
});

test('a proxy whose store is behind its on-chain state commits refuses to start (rollback or clone)', async () => {
  const devnet = await Devnet.open({});
  const endpoint = await devnet.listen(0);
  const engine = await startTestEngine();
  const client = openClient({ endpoint });
  const sub = join(dir, 'rollback');
  const wallet = await localWallet(client, endpoint, dir);
  const agent = new ChainAgent(client, wallet);
  const owner = wallet.contract.address.toString();
  const storePath = join(sub, 'proxy-db');
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    powDifficulty: 4,
    chain: agent,
    proxyStorePath: storePath,
    proxyOwner: owner,
    clientOwner: owner,
    workerOwner: () => owner,
    root: (proxy, allow) => localRoot({ client, wallet, dir: sub, proxy, allow }),
  });
  let rootCfg = net.root.current;
  const proxyKey = net.identities.proxy.privateKey;
  try {
    // A copy of the store as it was before any request: what a host could put back.
    await net.proxy.accounts.flush();
    cpSync(storePath, join(sub, 'old-db'), { recursive: true });
    const ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'x', maxRetries: 0 });
    for (let i = 0; i < 3; i++)
      await ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] });
    await net.proxy.accounts.flush();
    await net.proxy.settlement?.commit(net.proxy.accounts.seqno);
    assert.ok((net.proxy.settlement?.committedSeqno ?? 0) > 0);
    rootCfg = net.root.current;
  } finally {
    await net.close();
  }
  const restart = async (path: string) => {
    const store = Store.open(path);
    const identity = await createNodeIdentity({ tee: 'fake_tdx', privateKey: proxyKey });
    const p = new ProxyNode({
      root: new RootWatcher(rootCfg),
      identity,
      ownerAddress: owner,
      workerPolicy: 'fake_tdx',
      workerPort: 0,
      clientPort: 0,
      store,
      chain: agent,
    });
    try {
      await p.start();
    } finally {
      await p.close();
      await store.close();
      identity.refresher.close();
    }
  };
  try {
    await assert.rejects(restart(join(sub, 'old-db')), { code: 'ROLLBACK_DETECTED' });
    await restart(storePath); // the real store starts
  } finally {
    await engine.close();
    await devnet.close();
  }
});

test('a client whose proxy vanished closes its contract by force after the delay and gets its money back', async () => {
  const devnet = await Devnet.open({});
  const endpoint = await devnet.listen(0);
  const engine = await startTestEngine();
  const client = openClient({ endpoint });
  const sub = join(dir, 'vanish');
  const wallet = await localWallet(client, endpoint, dir);
  const agent = new ChainAgent(client, wallet);
  const owner = wallet.contract.address.toString();
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    powDifficulty: 4,
    chain: agent,
    proxyOwner: owner,
    clientOwner: owner,
    workerOwner: () => owner,
    root: (proxy, allow) => localRoot({ client, wallet, dir: sub, proxy, allow }),
  });
  try {
    const ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'x', maxRetries: 0 });
    await ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] });
    const sc = net.client.sessions[0]?.clientScAddress as string;
    const cc = agent.open(ClientContract.createFromAddress(Address.parse(sc)));
    const pc = agent.open(ProxyContract.createFromAddress(Address.parse(net.proxy.scAddress)));
    const before = await cc.getClientData();
    const stakeBefore = (await pc.getProxyData()).stake;
    assert.equal(before.balance, 2n * before.stake);
    await net.proxy.close(); // the proxy vanishes without settling

    await net.client.contractOp('close');
    const closing = await cc.getClientData();
    assert.equal(closing.state, 1, 'closing');
    assert.equal(closing.balance, before.stake, 'the balance above the stake came back at once');
    await net.client.contractOp('close'); // too early: the contract refuses, nothing changes
    assert.equal((await cc.getClientData()).state, 1);

    await devnet.call('devnet_advanceTime', { seconds: net.root.current.params.clientDelayBeforeClose + 1 });
    await net.client.contractOp('close');
    const closed = await cc.getClientData();
    assert.equal(closed.state, 2, 'closed');
    assert.equal(closed.balance, 0n);
    // What was left was paid back from the proxy's stake.
    assert.equal((await pc.getProxyData()).stake, stakeBefore - closing.balance);
  } finally {
    await net.close();
    await engine.close();
    await devnet.close();
  }
});
