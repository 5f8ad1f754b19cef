// The network end to end, in one process over real sockets: the official `openai` package, unchanged, against
// the client's API, through a proxy, to workers whose engine is a local OpenAI-compatible test server. Every
// case ends with an answer or a clear error, never a hang, and the token counts agree at client, proxy and
// worker.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { clientApi, listenApi } from '../src/node/client/api.ts';
import { ClientNode } from '../src/node/client/client.ts';
import { createNodeIdentity, type NodeIdentity } from '../src/node/identity.ts';
import { type LocalNetwork, localRootConfig, startLocalNetwork } from '../src/node/network.ts';
import { ProxyNode } from '../src/node/proxy/proxy.ts';
import { RootWatcher } from '../src/node/root-config.ts';
import { WorkerNode } from '../src/node/worker/node.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { FAKE_TDX_IMAGE_HASH } from '../src/tee/fake-tdx.ts';
import { startTestEngine, type TestEngineServer } from './support/openai-server.ts';

const POW = 4;

function sdk(net: LocalNetwork, opts: { apiKey?: string; timeout?: number } = {}): OpenAI {
  return new OpenAI({
    baseURL: net.apiUrl,
    apiKey: opts.apiKey ?? 'unused',
    maxRetries: 0,
    timeout: opts.timeout ?? 20_000,
  });
}

async function rejects(p: Promise<unknown>, status: number, match?: RegExp): Promise<APIError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof APIError, `expected an APIError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (match) assert.match(err.message, match);
    return err;
  }
  assert.fail(`expected HTTP ${status}`);
}

/** Waits until the proxy has settled every request (payments go out after the last byte). */
async function settled(net: LocalNetwork): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = net.proxy.stats;
    if (
      s.success + s.failed + s.rejected === s.requests &&
      [...net.proxy.clients.values()].every((c) => c.requests.size === 0)
    ) {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sumWorkerTokens(net: LocalNetwork): bigint {
  return net.workers.reduce((a, w) => a + w.stats.tokens, 0n);
}

describe('a local network with the openai SDK', () => {
  let engine: TestEngineServer;
  let net: LocalNetwork;

  before(async () => {
    engine = await startTestEngine();
    const http = () => new HttpEngine({ url: engine.url });
    net = await startLocalNetwork({
      workers: [
        { engine: http(), model: 'ok' },
        { engine: http(), model: 'slow' },
        { engine: http(), model: 'stall' },
        { engine: http(), model: 'disconnect' },
      ],
      powDifficulty: POW,
      clientFunds: () => ({ balance: 10n ** 15n, stake: 10n ** 15n }),
      proxyWarmupMs: 0,
    });
  });
  after(async () => {
    await net?.close();
    await engine?.close();
  });

  test('non-streaming chat: the answer, usage with nanoTON costs, timing headers', async () => {
    const ai = sdk(net);
    const { data, response } = await ai.chat.completions
      .create({ model: 'ok', messages: [{ role: 'user', content: 'Capital of France?' }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'The capital of France is Paris.');
    const usage = data.usage as unknown as Record<string, number>;
    // 11 prompt tokens (3 cached) and 7 completion tokens at 20 nanoTON each, coefficient 1.0.
    assert.equal(usage.prompt_total_cost, 220);
    assert.equal(usage.completion_total_cost, 140);
    assert.equal(usage.total_cost, 360);
    for (const h of ['client', 'proxy', 'worker']) {
      for (const e of ['start', 'end']) {
        const v = Number(response.headers.get(`x-cocoon-${h}-${e}`));
        assert.ok(v > 1.7e9 && v < 1e10, `x-cocoon-${h}-${e} = ${v}`);
      }
    }
    // The request the engine got: max_tokens filled in (what the client reserved), extension fields removed.
    const seen = engine.seen.at(-1);
    assert.equal(seen?.body.max_tokens, 1000);
  });

  test('legacy completions and GET /v1/models', async () => {
    const ai = sdk(net);
    const c = await ai.completions.create({ model: 'ok', prompt: 'The capital of France' });
    assert.equal(c.choices[0]?.text, 'The capital of France is Paris.');
    const models = await ai.models.list();
    const ids = models.data.map((m) => m.id).sort();
    assert.deepEqual(ids, ['disconnect', 'ok', 'slow', 'stall']);
    const ok = models.data.find((m) => m.id === 'ok') as unknown as Record<string, unknown>;
    assert.equal(ok.active_workers, 1);
    assert.equal(ok.price_per_token, 20);
  });

  test('streaming with usage: chunks arrive as the worker sends them, the last carries the costs', async () => {
    const ai = sdk(net);
    const t0 = Date.now();
    const stream = await ai.chat.completions.create({
      model: 'slow',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const arrivals: number[] = [];
    let text = '';
    let usage: Record<string, number> | undefined;
    for await (const chunk of stream) {
      arrivals.push(Date.now() - t0);
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage as unknown as Record<string, number>;
    }
    assert.equal(text, 'The capital of France is Paris.');
    assert.equal(usage?.total_cost, 360);
    // The engine waits 40 ms between words: streamed chunks are spread out, not delivered at the end at once.
    const spread = (arrivals.at(-2) as number) - (arrivals[1] as number);
    assert.ok(spread >= 150, `chunks arrived within ${spread} ms of each other: buffered?`);
  });

  test('tools pass through to the engine and tool calls come back', async () => {
    const ai = sdk(net);
    const r = await ai.chat.completions.create({
      model: 'ok',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'auto',
    });
    assert.equal(r.choices[0]?.finish_reason, 'tool_calls');
    const call = r.choices[0]?.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
  });

  test('two models on two workers: each request reaches the worker of its model', async () => {
    const ai = sdk(net);
    const before = net.workers.map((w) => w.stats.requests);
    await Promise.all([
      ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'a' }] }),
      ai.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'b' }] }),
      ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'c' }] }),
    ]);
    const after = net.workers.map((w, i) => w.stats.requests - (before[i] as number));
    assert.deepEqual(after, [2, 1, 0, 0]);
  });

  test('50 concurrent streams all complete; tokens agree at client, proxy and workers', async () => {
    const ai = sdk(net);
    await settled(net);
    const base = {
      client: net.client.stats.tokens,
      proxy: net.proxy.stats.tokens,
      workers: sumWorkerTokens(net),
    };
    const runs = Array.from({ length: 50 }, async (_, i) => {
      const s = await ai.chat.completions.create({
        model: i % 2 ? 'ok' : 'slow',
        messages: [{ role: 'user', content: `request ${i}` }],
        stream: true,
      });
      let text = '';
      for await (const c of s) text += c.choices[0]?.delta.content ?? '';
      return text;
    });
    const texts = await Promise.all(runs);
    assert.ok(texts.every((t) => t === 'The capital of France is Paris.'));
    await settled(net);
    const client = net.client.stats.tokens - base.client;
    const proxy = net.proxy.stats.tokens - base.proxy;
    const workers = sumWorkerTokens(net) - base.workers;
    assert.equal(client, 50n * 18n);
    assert.equal(proxy, client);
    assert.equal(workers, client);
  });

  test('a worker whose engine stalls: 504 at the request timeout, not later', async () => {
    const ai = sdk(net);
    const t0 = Date.now();
    await rejects(
      ai.chat.completions.create({
        model: 'stall',
        messages: [{ role: 'user', content: 'x' }],
        // @ts-expect-error Cocoon's extension field
        timeout: 1.5,
      }),
      504,
    );
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
  });

  test('an engine that drops mid-stream: the stream ends with an error, billed nothing', async () => {
    const ai = sdk(net);
    await settled(net);
    const before = net.proxy.stats.tokens;
    const s = await ai.chat.completions.create({
      model: 'disconnect',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    let text = '';
    await assert.rejects(async () => {
      for await (const c of s) text += c.choices[0]?.delta.content ?? '';
    }, APIError);
    assert.equal(text, 'The capital of');
    await settled(net);
    assert.equal(net.proxy.stats.tokens, before);
  });

  test('an unknown model is 404, a malformed body 400, a field no worker accepts 400', async () => {
    const ai = sdk(net);
    await rejects(ai.chat.completions.create({ model: 'no-such-model', messages: [] }), 404, /no-such-model/);
    const bad = await fetch(`${net.apiUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "ok", "messages": [',
    });
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { error: { message: string; type: string } };
    assert.equal(err.error.type, 'invalid_request_error');
    await rejects(
      // @ts-expect-error a field outside the whitelist
      ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }], not_a_field: 1 }),
      400,
      /not_a_field/,
    );
    const dup = await fetch(`${net.apiUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"ok","model":"slow","messages":[]}',
    });
    assert.equal(dup.status, 400);
  });

  test('a max_coefficient below every worker is refused with the coefficient that would work', async () => {
    const ai = sdk(net);
    await rejects(
      ai.chat.completions.create({
        model: 'ok',
        messages: [{ role: 'user', content: 'x' }],
        // @ts-expect-error Cocoon's extension field
        max_coefficient: 500,
      }),
      400,
      /coefficient=1000/,
    );
  });

  test('/stats and /jsonstats need the access token when one is set; a disabled worker leaves routing', async () => {
    const r = await fetch(`${net.apiUrl.replace(/\/v1$/, '')}/jsonstats`);
    assert.equal(r.status, 200);
    const j = (await r.json()) as { stats: { requests: number } };
    assert.ok(j.stats.requests > 0);
    net.workers[0]?.setEnabled(false);
    await new Promise((r) => setTimeout(r, 50));
    await rejects(
      sdk(net).chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] }),
      503,
    );
    net.workers[0]?.setEnabled(true);
    await new Promise((r) => setTimeout(r, 50));
    await sdk(net).chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] });
  });
});

describe('failures of nodes and peers', () => {
  let engine: TestEngineServer;
  before(async () => {
    engine = await startTestEngine();
  });
  after(async () => {
    await engine?.close();
  });

  test('a worker killed mid-stream: the app gets an error at once, and is billed nothing', async () => {
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'slow' }],
      powDifficulty: POW,
    });
    try {
      const s = await sdk(net).chat.completions.create({
        model: 'slow',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      });
      let n = 0;
      let killedAt = 0;
      await assert.rejects(async () => {
        for await (const _ of s) {
          if (++n === 2) {
            killedAt = Date.now();
            void net.workers[0]?.close();
          }
        }
      }, APIError);
      assert.ok(Date.now() - killedAt < 1000, `the error came ${Date.now() - killedAt} ms after the kill`);
      await settled(net);
      assert.equal(net.proxy.stats.tokens, 0n);
      assert.equal(net.client.stats.tokens, 0n);
    } finally {
      await net.close();
    }
  });

  test('a worker whose engine fails before the first byte: the request is retried on another worker', async () => {
    const dead = await startTestEngine();
    const net = await startLocalNetwork({
      workers: [
        { engine: new HttpEngine({ url: dead.url }), model: 'ok', healthIntervalMs: 0 },
        { engine: new HttpEngine({ url: engine.url }), model: 'ok', healthIntervalMs: 0 },
      ],
      powDifficulty: POW,
    });
    try {
      await dead.close();
      const ai = sdk(net);
      // Each request picks between two untried-equal workers at random: send until one picked the dead one
      // (at most 40, so the chance of never picking it is 2^-40), and every one must still be answered.
      let sent = 0;
      while (sent < 40 && (sent < 6 || net.proxy.stats.retries === 0)) {
        const r = await ai.chat.completions.create({
          model: 'ok',
          messages: [{ role: 'user', content: `x${sent++}` }],
        });
        assert.equal(r.choices[0]?.message.content, 'The capital of France is Paris.');
      }
      assert.ok(net.proxy.stats.retries >= 1, 'no request was retried');
      assert.equal(net.workers[1]?.stats.success, sent);
    } finally {
      await net.close();
    }
  });

  test('a proxy restarted under load: requests in flight end with an error, the network comes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cocoon-proxy-'));
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'slow' }],
      powDifficulty: POW,
      proxyStorePath: join(dir, 'proxy-db'),
    });
    try {
      const ai = sdk(net);
      const inflight = Array.from({ length: 8 }, () =>
        ai.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'x' }] }).then(
          () => 'ok',
          (e: unknown) => (e instanceof APIError ? `HTTP ${e.status}` : String(e)),
        ),
      );
      await new Promise((r) => setTimeout(r, 60));
      await net.restartProxy();
      const outcomes = await Promise.all(inflight);
      // 502: the proxy went away under the request; 503: it reached the new proxy before the worker was back.
      assert.ok(
        outcomes.every((o) => ['ok', 'HTTP 502', 'HTTP 503'].includes(o)),
        outcomes.join(', '),
      );
      await Promise.all([net.client.waitReady(10_000), net.workers[0]?.waitReady(10_000)]);
      // The worker re-registers after the client may already be back: retry until it has.
      let answer: string | null | undefined;
      for (let i = 0; i < 50 && answer === undefined; i++) {
        try {
          answer = (
            await ai.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'y' }] })
          ).choices[0]?.message.content;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(answer, 'The capital of France is Paris.');
      // The worker kept what the first proxy run reported, and the restarted proxy kept it too.
      const proxyKnows = () => net.proxy.accounts.all('worker')[0]?.tokens;
      const workerKnows = () => net.workers[0]?.proxies[0]?.earned;
      for (let i = 0; i < 100 && workerKnows() !== proxyKnows(); i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.ok((workerKnows() ?? 0n) > 0n);
      assert.equal(workerKnows(), proxyKnows());
    } finally {
      await net.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a client whose proxy goes away reconnects to another proxy from the root', async () => {
    const identity = () => createNodeIdentity({ tee: 'fake_tdx' });
    const ids = await Promise.all([identity(), identity(), identity(), identity()]);
    const [p1id, p2id, wid, cid] = ids as [NodeIdentity, NodeIdentity, NodeIdentity, NodeIdentity];
    const allow = {
      images: [FAKE_TDX_IMAGE_HASH],
      models: [createHash('sha256').update('ok').digest('hex')],
    };
    const root = new RootWatcher(localRootConfig({ workers: '', clients: '' }, allow));
    const proxies = [p1id, p2id].map(
      (identity, i) =>
        new ProxyNode({
          root,
          identity,
          ownerAddress: `0:${String(i).repeat(64)}`,
          workerPolicy: 'fake_tdx',
          workerPort: 0,
          clientPort: 0,
          powDifficulty: POW,
        }),
    );
    for (const p of proxies) await p.start();
    const [a, b] = proxies as [ProxyNode, ProxyNode];
    root.set(
      {
        ...root.current,
        proxies: [a, b].map((p, i) => ({
          seqno: i + 1,
          address: { workers: `127.0.0.1:${p.ports.workers}`, clients: `127.0.0.1:${p.ports.clients}` },
        })),
      },
      true,
    );
    const worker = new WorkerNode({
      root,
      identity: wid,
      engine: new HttpEngine({ url: engine.url }),
      model: 'ok',
      ownerAddress: `0:${'9'.repeat(64)}`,
      proxyPolicy: 'fake_tdx',
      proxyConnections: 2,
    });
    const client = new ClientNode({
      root,
      identity: cid,
      ownerAddress: `0:${'8'.repeat(64)}`,
      proxyPolicy: 'fake_tdx',
    });
    const api = clientApi({ node: client });
    try {
      await worker.start();
      client.start();
      const port = await listenApi(api, 0);
      const ai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0 });
      await client.waitReady(10_000);
      for (let i = 0; i < 50 && worker.proxies.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(worker.proxies.length, 2, 'the worker serves both proxies');
      const first = await ai.chat.completions.create({
        model: 'ok',
        messages: [{ role: 'user', content: 'x' }],
      });
      assert.ok(first.choices[0]?.message.content);
      const used = client.sessions[0]?.address;
      const gone = used === `127.0.0.1:${a.ports.clients}` ? a : b;
      const other = gone === a ? b : a;
      await gone.close();
      // The next request waits for the client to move to the other proxy, and is answered there.
      const second = await ai.chat.completions.create({
        model: 'ok',
        messages: [{ role: 'user', content: 'y' }],
      });
      assert.equal(second.choices[0]?.message.content, 'The capital of France is Paris.');
      assert.equal(client.sessions[0]?.address, `127.0.0.1:${other.ports.clients}`);
      assert.ok(other.stats.success >= 1);
    } finally {
      api.closeAllConnections();
      await new Promise<void>((r) => api.close(() => r()));
      client.close();
      await worker.close();
      for (const p of proxies) await p.close();
      for (const id of ids) id.refresher.close();
    }
  });

  test('enable_debug returns timings from every hop, kept under request_guid', async () => {
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
      powDifficulty: POW,
    });
    try {
      const r = await sdk(net).chat.completions.create({
        model: 'ok',
        messages: [{ role: 'user', content: 'x' }],
        // @ts-expect-error Cocoon's extension fields
        enable_debug: true,
        request_guid: 'guid-1',
      });
      const debug = (r.usage as unknown as { debug: { client: { start: number }; proxy: string } }).debug;
      assert.ok(debug.client.start > 1.7e9);
      assert.match(debug.proxy, /attempts/);
      const kept = await fetch(
        `${net.apiUrl.replace(/\/v1$/, '')}/request/debuglogentry?request_guid=guid-1`,
      );
      assert.equal(kept.status, 200);
      assert.deepEqual(((await kept.json()) as { proxy: string }).proxy, debug.proxy);
    } finally {
      await net.close();
    }
  });

  test('a worker at max_active_requests: 429; a re-priced worker shows its new coefficient; a failing engine disables its worker', async () => {
    const backend = await startTestEngine();
    const net = await startLocalNetwork({
      workers: [
        { engine: new HttpEngine({ url: engine.url }), model: 'stall', maxActiveRequests: 1 },
        { engine: new HttpEngine({ url: backend.url }), model: 'ok', healthIntervalMs: 100 },
      ],
      powDifficulty: POW,
    });
    try {
      const ai = sdk(net);
      const first = ai.chat.completions
        // @ts-expect-error Cocoon's extension field
        .create({ model: 'stall', messages: [{ role: 'user', content: 'x' }], timeout: 2 })
        .catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      await rejects(
        ai.chat.completions.create({ model: 'stall', messages: [{ role: 'user', content: 'y' }] }),
        429,
        /busy/,
      );
      assert.equal(((await first) as APIError).status, 504);

      net.workers[1]?.setCoefficient(1500);
      await new Promise((r) => setTimeout(r, 50));
      const models = await ai.models.list();
      const ok = models.data.find((m) => m.id === 'ok') as unknown as { coefficient_min: number };
      assert.equal(ok.coefficient_min, 1500);

      await backend.close();
      for (let i = 0; i < 50 && net.workers[1]?.enabled; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(net.workers[1]?.enabled, false, 'the worker noticed its engine is down');
      await new Promise((r) => setTimeout(r, 50));
      await rejects(
        ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] }),
        503,
      );
    } finally {
      await net.close();
      await backend.close();
    }
  });

  test('with contracts: charges and payouts are signed for the derived contracts, and all sides agree on them', async () => {
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
      powDifficulty: POW,
      contracts: true,
    });
    try {
      const ai = sdk(net);
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          i % 2
            ? ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: `q${i}` }] })
            : ai.chat.completions
                .create({ model: 'ok', messages: [{ role: 'user', content: `q${i}` }], stream: true })
                .then(async (s) => {
                  for await (const _ of s);
                }),
        ),
      );
      await settled(net);
      const client = net.client.sessions[0];
      const worker = net.workers[0]?.proxies[0];
      assert.ok(client && worker);
      assert.ok(client.clientScAddress.length > 0 && worker.workerScAddress.length > 0, 'contracts derived');
      const billed = net.client.stats.tokens;
      assert.equal(billed, 12n * 18n);
      for (let i = 0; i < 100 && (client.payments.tokens < billed || worker.payments.tokens < billed); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(
        client.payments.tokens,
        billed,
        'the client holds a signed charge for exactly what it was billed',
      );
      assert.equal(
        worker.payments.tokens,
        billed,
        'the worker holds a signed payout for exactly what it served',
      );
      const [pc] = net.proxy.accounts.all('client');
      const [pw] = net.proxy.accounts.all('worker');
      assert.equal(pc?.committed, billed);
      assert.equal(pw?.committed, billed);
      assert.equal(pc?.scAddress, client.clientScAddress);
    } finally {
      await net.close();
    }
  });

  test('a client with too little balance gets 402 before anything reaches a worker', async () => {
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
      powDifficulty: POW,
      clientFunds: () => ({ balance: 10_000n, stake: 10_000n }), // 500 tokens at 20 nanoTON
    });
    try {
      const seen = engine.seen.length;
      await rejects(
        sdk(net).chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] }),
        402,
        /insufficient funds/,
      );
      assert.equal(engine.seen.length, seen);
      // A request small enough for the funds goes through.
      const r = await sdk(net).chat.completions.create({
        model: 'ok',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 50,
        // @ts-expect-error Cocoon's extension field: reserve at 1.0× instead of the default 4.0×
        max_coefficient: 1000,
      });
      assert.ok(r.choices[0]?.message.content);
    } finally {
      await net.close();
    }
  });

  test('the API key guards /v1 when set', async () => {
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
      powDifficulty: POW,
      apiKey: 'sk-local',
      accessToken: 'stats-token',
    });
    try {
      await rejects(sdk(net, { apiKey: 'wrong' }).models.list(), 401);
      const ok = await sdk(net, { apiKey: 'sk-local' }).models.list();
      assert.equal(ok.data.length, 1);
      const base = net.apiUrl.replace(/\/v1$/, '');
      assert.equal((await fetch(`${base}/jsonstats`)).status, 401);
      assert.equal((await fetch(`${base}/jsonstats?access_token=stats-token`)).status, 200);
    } finally {
      await net.close();
    }
  });

  test('peers whose attestation is wrong are refused: a worker the root does not allow, a proxy under policy tdx', async () => {
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
      powDifficulty: POW,
    });
    const extra: { close(): unknown }[] = [];
    try {
      // A worker presenting a quote-less certificate to the proxy's fake_tdx port: refused before any byte.
      const refusedBefore = net.proxy.stats.workersAccepted;
      const noQuote = await createNodeIdentity({
        tee: { kind: 'fake_tdx', getQuote: async () => new Uint8Array(10) },
      });
      const w = new WorkerNode({
        root: net.root,
        identity: noQuote,
        engine: new HttpEngine({ url: engine.url }),
        model: 'ok',
        ownerAddress: '0:'.padEnd(66, '1'),
        proxyPolicy: 'fake_tdx',
      });
      extra.push(w, { close: () => noQuote.refresher.close() });
      await w.start();
      await assert.rejects(w.waitReady(1500), /no proxy connection is ready/);
      assert.equal(net.proxy.stats.workersAccepted, refusedBefore);

      // A worker with a valid fake quote whose image the root does not list: the handshake fails.
      const strict = new RootWatcher({
        ...localRootConfig(net.root.current.proxies[0]?.address as never, { images: [], models: [] }),
      });
      const id2 = await createNodeIdentity({ tee: 'fake_tdx' });
      const w2 = new WorkerNode({
        root: net.root,
        identity: id2,
        engine: new HttpEngine({ url: engine.url }),
        model: 'not-allowed-model',
        ownerAddress: '0:'.padEnd(66, '2'),
        proxyPolicy: 'fake_tdx',
      });
      extra.push(w2, { close: () => id2.refresher.close() });
      await w2.start();
      await assert.rejects(w2.waitReady(1500));
      assert.equal([...net.proxy.workers.values()].filter((x) => x.state === 'ready').length, 1);

      // A client that demands real TDX from a proxy with a fake quote never connects (and says why).
      const id3 = await createNodeIdentity({ tee: 'fake_tdx' });
      const c = new ClientNode({
        root: strict,
        identity: id3,
        ownerAddress: '0:'.padEnd(66, '3'),
        proxyPolicy: 'tdx',
      });
      extra.push(c, { close: () => id3.refresher.close() });
      c.start();
      await assert.rejects(c.waitReady(1500), /FAKE_QUOTE_REFUSED|fake|quote|collateral/i);
    } finally {
      for (const x of extra) await x.close();
      await net.close();
    }
  });
});

describe('engine health under load', () => {
  test('a health check that fails while answers complete keeps the worker; with no answers it leaves', async () => {
    const engine = await startTestEngine();
    // The engine answers requests but, once busy, its health endpoint fails (as one too loaded to answer in time).
    let busy = false;
    class BusyEngine extends HttpEngine {
      override async health() {
        const h = await super.health();
        return busy ? { ...h, ok: false, error: 'health check timed out' } : h;
      }
    }
    const net = await startLocalNetwork({
      workers: [{ engine: new BusyEngine({ url: engine.url }), model: 'ok', healthIntervalMs: 200 }],
      powDifficulty: POW,
      clientFunds: () => ({ balance: 10n ** 15n, stake: 10n ** 15n }),
    });
    try {
      const ai = sdk(net);
      // Answers already completing when the engine gets busy (else a check failing before the first one is right).
      await ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] });
      busy = true;
      const until = Date.now() + 1200;
      while (Date.now() < until) {
        await ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] });
        assert.equal(net.workers[0]?.enabled, true);
      }
      for (let i = 0; i < 200 && net.workers[0]?.enabled; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(net.workers[0]?.enabled, false, 'idle, a failing health check takes the worker out');
    } finally {
      await net.close();
      await engine.close();
    }
  });
});
