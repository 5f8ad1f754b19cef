// The money loop on the devnet: a root with the contract codes, a proxy that deploys and stakes its contract, a
// client that deploys and funds its own, a worker with its contract; requests of random sizes, streamed or not,
// some failing mid-way; then settlement. Client, proxy, worker and the chain must agree to the nanoTON, and the
// client's spending must equal the worker's earnings plus the proxy's commission.

import assert from 'node:assert/strict';
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
import { ChainAgent } from '../src/node/chain-agent.ts';
import { localRoot, localWallet } from '../src/node/local-chain.ts';
import { startLocalNetwork } from '../src/node/network.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { startTestEngine } from './support/openai-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-money-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('requests of random sizes, some failing: client, proxy, worker and chain agree to the nanoTON', async () => {
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
    for (let i = 0; i < 60; i += 6) await Promise.all(Array.from({ length: 6 }, (_, k) => one(i + k)));
    assert.ok(failures > 0 && failures < 20, `${failures} failures`);

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
