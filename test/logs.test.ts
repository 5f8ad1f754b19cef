// Structured logs follow a request across the network: the client's `request` id is the proxy's, and the proxy's
// `worker_request` id is the worker's, so one id finds the request's whole path in JSON logs.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import OpenAI from 'openai';
import { nodeLogger } from '../src/node/log.ts';
import { startLocalNetwork } from '../src/node/network.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { startTestEngine } from './support/openai-server.ts';

test('one request leaves one JSON line on each node, linked by its ids', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const engine = await startTestEngine();
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    powDifficulty: 4,
    logger: (role) => nodeLogger({ role, level: 'info', destination: sink }),
  });
  try {
    const ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'x', maxRetries: 0 });
    await ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] });
    await new Promise((r) => setTimeout(r, 100));
    const ended = (node: string) => lines.filter((l) => l.node === node && l.msg === 'request ended');
    const [client] = ended('client');
    const [proxy] = ended('proxy');
    const [worker] = ended('worker');
    assert.ok(client && proxy && worker, JSON.stringify(lines));
    assert.equal(client.request, proxy.request);
    assert.equal(proxy.worker_request, worker.worker_request);
    assert.match(String(client.request), /^[0-9a-f]{16}$/);
    for (const l of [client, proxy, worker]) {
      assert.equal(l.outcome, 'success');
      assert.equal(l.tokens, 18);
      assert.equal(l.level, 30);
      assert.equal(typeof l.time, 'number');
    }
    assert.equal(proxy.model, 'ok');
    assert.equal(client.status, 200);
  } finally {
    await net.close();
    await engine.close();
  }
});

test('log levels are checked', () => {
  assert.throws(() => nodeLogger({ role: 'proxy', level: 'loud' }), /log level must be one of/);
});
