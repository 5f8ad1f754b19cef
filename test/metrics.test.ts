// Every node's /metrics, scraped after real traffic and read with a Prometheus text-format parser: the requests,
// tokens and latency the three nodes report agree with each other and with what the app was billed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import parsePrometheus from 'parse-prometheus-text-format';
import { startLocalNetwork } from '../src/node/network.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { startTestEngine } from './support/openai-server.ts';

interface Family {
  name: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
  }[];
}

async function scrape(url: string, token: string): Promise<Map<string, Family>> {
  const unauth = await fetch(url);
  assert.equal(unauth.status, 401, 'metrics need the access token');
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const families = parsePrometheus(await res.text()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

const value = (m: Map<string, Family>, name: string, labels: Record<string, string> = {}) => {
  const f = m.get(name);
  assert.ok(f, `no ${name}`);
  const x = f.metrics.find((e) => Object.entries(labels).every(([k, v]) => e.labels?.[k] === v));
  return Number(x?.value ?? x?.count ?? Number.NaN);
};

test('/metrics of client, proxy and worker parse as Prometheus text and agree after real traffic', async () => {
  const engine = await startTestEngine();
  const net = await startLocalNetwork({
    workers: [
      { engine: new HttpEngine({ url: engine.url }), model: 'ok' },
      { engine: new HttpEngine({ url: engine.url }), model: 'disconnect' },
    ],
    powDifficulty: 4,
    accessToken: 'scrape',
    proxyWarmupMs: 0,
    ports: { proxyStats: 0, workerStats: 0 },
  });
  try {
    const ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'x', maxRetries: 0 });
    for (let i = 0; i < 5; i++)
      await ai.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }] });
    const s = await ai.chat.completions.create({
      model: 'disconnect',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await assert.rejects(async () => {
      for await (const _ of s);
    });
    await assert.rejects(ai.chat.completions.create({ model: 'nope', messages: [] }));
    await new Promise((r) => setTimeout(r, 100));

    const client = await scrape(`${net.apiUrl.replace(/\/v1$/, '')}/metrics`, 'scrape');
    const proxy = await scrape(`http://127.0.0.1:${net.proxy.ports.stats}/metrics`, 'scrape');
    const worker = await scrape(`http://127.0.0.1:${net.workers[0]?.statsPort}/metrics`, 'scrape');

    assert.equal(client.get('cocoon_client_requests_total')?.type, 'COUNTER');
    assert.equal(proxy.get('cocoon_proxy_request_duration_seconds')?.type, 'HISTOGRAM');
    assert.equal(value(client, 'cocoon_client_requests_total', { outcome: 'success' }), 5);
    assert.equal(value(proxy, 'cocoon_proxy_requests_total', { outcome: 'success' }), 5);
    assert.equal(value(worker, 'cocoon_worker_requests_total', { outcome: 'success' }), 5);
    assert.equal(
      value(proxy, 'cocoon_proxy_requests_total', { outcome: 'failed' }),
      1,
      'the stream that broke',
    );
    assert.equal(
      value(proxy, 'cocoon_proxy_requests_total', { outcome: 'rejected' }),
      1,
      'the unknown model',
    );
    assert.equal(value(proxy, 'cocoon_proxy_errors_total', { cause: '404' }), 1);
    assert.equal(value(client, 'cocoon_client_errors_total', { cause: '404' }), 1);
    // 5 answers of 18 adjusted tokens each, the same on all three nodes.
    for (const [m, role] of [
      [client, 'client'],
      [proxy, 'proxy'],
      [worker, 'worker'],
    ] as const) {
      assert.equal(value(m, `cocoon_${role}_tokens_total`), 90, role);
    }
    assert.equal(value(proxy, 'cocoon_proxy_connections', { kind: 'worker' }), 2);
    assert.equal(value(proxy, 'cocoon_proxy_connections', { kind: 'client' }), 1);
    assert.equal(value(worker, 'cocoon_worker_enabled'), 1);
    assert.equal(value(client, 'cocoon_client_proxies'), 1);
    // 5 answers and 1 broken stream, every one under 10 s; buckets are cumulative.
    const [hist] = proxy.get('cocoon_proxy_request_duration_seconds')?.metrics ?? [];
    assert.equal(Number(hist?.buckets?.['+Inf']), 6);
    assert.equal(Number(hist?.buckets?.['10']), 6);
    assert.ok(Number(hist?.buckets?.['0.001']) <= Number(hist?.buckets?.['0.1']));
  } finally {
    await net.close();
    await engine.close();
  }
});
