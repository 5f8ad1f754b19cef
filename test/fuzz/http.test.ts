// Fuzzes the client's OpenAI HTTP API on a real local network (client → proxy → worker → a test engine, over
// RA-TLS with fake-TDX quotes): malformed JSON and mistyped fields must get OpenAI-shaped 4xx errors (and valid
// bodies 200); raw requests with broken request lines, targets and headers must get an HTTP answer or a closed
// connection, never a crash — the proxy's and the worker's stats servers get the same; oversized bodies get 413,
// bodies that never end 408, and slowloris connections are closed within the headers timeout, while normal
// requests keep being answered throughout.

import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  API_BODY_TIMEOUT_MS,
  API_HEADERS_TIMEOUT_MS,
  clientApi,
  listenApi,
} from '../../src/node/client/api.ts';
import { type LocalNetwork, startLocalNetwork } from '../../src/node/network.ts';
import { HttpEngine } from '../../src/openai/engine.ts';
import { startTestEngine, type TestEngineServer } from '../support/openai-server.ts';
import {
  budget,
  crashCollector,
  describeError,
  fuzzSeed,
  fuzzTimeout,
  mutate,
  type Rng,
  readCorpus,
  report,
  rng,
  saveFailure,
} from './support.ts';

// Small limits on the API under test, so the slow and oversized cases take a second, not a minute.
const HEADERS_TIMEOUT_MS = 500;
const BODY_TIMEOUT_MS = 500;
const MAX_BODY = 64 * 1024;

let engine: TestEngineServer;
let network: LocalNetwork;
let api: Server;
let port = 0;
const statsPorts: { name: string; port: number }[] = [];

before(async () => {
  engine = await startTestEngine();
  network = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    powDifficulty: 2,
    proxyWarmupMs: 0,
    clientFunds: () => ({ balance: 10n ** 15n, stake: 10n ** 15n }),
    ports: { proxyStats: 0, workerStats: 0 },
  });
  // A second API on the same client node, with the limits above; the network's own keeps the defaults.
  api = clientApi({
    node: network.client,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    maxBodyBytes: MAX_BODY,
  });
  port = await listenApi(api, 0);
  statsPorts.push(
    { name: 'proxy stats', port: network.proxy.ports.stats },
    { name: 'worker stats', port: network.workers[0]!.statsPort },
  );
});

after(async () => {
  api?.closeAllConnections();
  await new Promise<void>((r) => (api ? api.close(() => r()) : r()));
  await network?.close();
  await engine?.close();
});

const VALID = { model: 'ok', messages: [{ role: 'user', content: 'What is the capital of France?' }] };

/** A normal request: it must be answered, whatever else is going on. */
async function normal(p = port, timeoutMs = 10_000): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${p}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(VALID),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.choices?.[0]?.message?.content, 'The capital of France is Paris.');
  return { status: res.status, ms: performance.now() - started };
}

/** Checks an error answer is OpenAI-shaped: `{"error":{"message":…,"type":…}}` as JSON. */
function openAiError(status: number, text: string, contentType: string | null): string | undefined {
  if (!/json/.test(contentType ?? '')) return `status ${status} with content-type ${contentType}`;
  try {
    const e = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown } }).error;
    if (typeof e?.message !== 'string' || typeof e.type !== 'string')
      return `status ${status}: not an OpenAI error: ${text}`;
  } catch {
    return `status ${status}: not JSON: ${text.slice(0, 200)}`;
  }
  return undefined;
}

// --- request bodies ---

const WRONG: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53,
  2 ** 31,
  '',
  'ok',
  'x'.repeat(300),
  '\u0000\ud800',
  [],
  [1, 'a'],
  {},
  { role: 'user' },
  [{ role: 7 }],
];

const FIELDS = [
  'model',
  'messages',
  'prompt',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'max_coefficient',
  'timeout',
  'enable_debug',
  'request_guid',
  'temperature',
  'top_p',
  'n',
  'stop',
  'tools',
  'tool_choice',
  'seed',
  'response_format',
];

interface BodyCase {
  path: '/v1/chat/completions' | '/v1/completions';
  body: Buffer;
  /** 200 when the body is valid; 400 when it is not JSON or not an object; undefined: any 2xx/4xx. */
  expect?: number;
}

function bodyCase(r: Rng, corpus: Buffer[]): BodyCase {
  const path = r.chance(0.85) ? '/v1/chat/completions' : '/v1/completions';
  const base: Record<string, unknown> =
    path === '/v1/completions' ? { model: 'ok', prompt: 'Capital of France?' } : structuredClone(VALID);
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  switch (r.int(11)) {
    case 0: {
      // Valid, with optional fields set right.
      const extra = r.pick<Record<string, unknown>>([
        {},
        { stream: true, stream_options: { include_usage: true } },
        { stream: false },
        { max_tokens: 5 },
        { temperature: 0.5, top_p: 1 },
        { max_coefficient: 4000, timeout: 30 },
        { enable_debug: true, request_guid: 'fuzz' },
        { stop: ['\n'] },
      ]);
      return { path, body: json({ ...base, ...extra }), expect: 200 };
    }
    case 1:
      base[r.pick(FIELDS)] = r.pick(WRONG);
      return { path, body: json(base) };
    case 2:
      delete base[r.pick(Object.keys(base))];
      return { path, body: json(base) };
    case 3:
      base[r.pick(['foo', '__proto__', 'constructor', 'x'.repeat(200), ''])] = r.pick(WRONG);
      return { path, body: json(base) };
    case 4:
      return { path, body: mutate(r, json(base), corpus) };
    case 5: {
      const b = json(base);
      return { path, body: b.subarray(0, r.int(b.length)), expect: 400 };
    }
    case 6:
      // The same key twice: two parties could read it differently.
      return {
        path,
        body: Buffer.from(`{"model":"ok","model":"other",${JSON.stringify(base).slice(1)}`),
        expect: 400,
      };
    case 7: {
      const depth = r.pick([100, 1000, 10_000, 30_000]);
      const nest = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      return { path, body: Buffer.from(`{"model":"ok","messages":${nest}}`), expect: 400 };
    }
    case 8:
      return {
        path,
        body: Buffer.from(
          r.pick(['', ' ', 'null', '[]', '"ok"', '1', 'true', '[{"model":"ok"}]', '\ufeff{}']),
        ),
        expect: 400,
      };
    case 9: {
      // Large but under the limit: still a normal request.
      const content = 'x'.repeat(MAX_BODY - 200 - r.int(1000));
      return {
        path: '/v1/chat/completions',
        body: json({ model: 'ok', messages: [{ role: 'user', content }] }),
        expect: 200,
      };
    }
    default: {
      const c = corpus.length > 0 ? r.pick(corpus) : json(base);
      return { path, body: r.chance(0.5) ? c : mutate(r, c, corpus) };
    }
  }
}

/** Sends one body; returns what is wrong with the answer, if anything. */
async function sendBody(c: BodyCase, statuses: Record<string, number>): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${port}${c.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: c.body,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    return `no answer: ${describeError(err)}`;
  }
  const text = await res.text();
  statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  // A body that is not JSON (or not an object) is refused at the client; anything else may also be refused by
  // the worker's validation (400) or the proxy (404 unknown model), but never with a server error.
  let expect = c.expect;
  if (expect === undefined) {
    try {
      const v = JSON.parse(c.body.toString('utf8')) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) expect = 400;
    } catch {
      expect = 400;
    }
  }
  if (expect !== undefined && res.status !== expect)
    return `status ${res.status}, expected ${expect}: ${text.slice(0, 300)}`;
  if (![200, 400, 404].includes(res.status)) return `status ${res.status}: ${text.slice(0, 300)}`;
  if (res.status >= 400) return openAiError(res.status, text, res.headers.get('content-type'));
  if (/event-stream/.test(res.headers.get('content-type') ?? '')) {
    return /^data: /m.test(text) ? undefined : `an empty stream: ${text.slice(0, 200)}`;
  }
  try {
    const v = JSON.parse(text) as { choices?: unknown[] };
    return Array.isArray(v.choices) ? undefined : `200 without choices: ${text.slice(0, 200)}`;
  } catch {
    return `200 that is not JSON: ${text.slice(0, 200)}`;
  }
}

test('request bodies: malformed JSON and mistyped fields get OpenAI-shaped 4xx, valid ones 200', {
  timeout: fuzzTimeout(),
}, async (t) => {
  const seed = fuzzSeed();
  t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
  const r = rng(seed);
  const crashes = crashCollector(t);
  const corpusEntries = readCorpus('http').filter((e) => e.name.endsWith('.body'));
  assert.ok(corpusEntries.length > 0, 'no request bodies in the corpus');
  const corpus = corpusEntries.map((e) => e.data);
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  for (const e of corpusEntries) {
    const bad = await sendBody({ path: '/v1/chat/completions', body: e.data }, statuses);
    if (bad) failures.push(`${e.name}: ${bad}`);
  }
  const b = budget(200, 0.45);
  const lane = async () => {
    while (b.more()) {
      const c = bodyCase(r, corpus);
      const bad = await sendBody(c, statuses);
      if (!bad) continue;
      const saved = saveFailure('http', c.body, 'body');
      failures.push(
        `${c.path} ${bad}; body ${c.body.toString('utf8').slice(0, 200)}${saved ? ` (saved as ${saved})` : ''}`,
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  await normal();
  report(t, {
    target: 'http-body',
    iterations: b.iterations,
    seconds: b.seconds(),
    failures: failures.length,
    seed,
    extra: statuses,
  });
  assert.deepEqual(crashes, [], `uncaught exceptions (seed ${seed})`);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failing bodies (seed ${seed})`);
  if (b.complete) assert.ok((statuses[200] ?? 0) > 0 && (statuses[400] ?? 0) > 0, JSON.stringify(statuses));
});

// --- raw requests ---

interface RawResult {
  /** What the server sent. */
  data: string;
  /** The server closed the connection (rather than the test giving up). */
  closed: boolean;
  ms: number;
}

/** Writes `chunks` (with `gapMs` between them), reads until the server closes, a full answer, or `waitMs`. */
function exchange(
  p: number,
  chunks: Buffer[],
  opts: { gapMs?: number; waitMs: number; head?: boolean },
): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const s = net.connect(p, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data, closed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs);
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      // One complete answer is enough: its head and as many body bytes as it announced.
      const head = data.indexOf('\r\n\r\n');
      if (head < 0) return;
      const len = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, head));
      // A HEAD answer announces a length it does not send.
      const bodyLen = opts.head ? 0 : Number(len?.[1] ?? -1);
      if (bodyLen >= 0 ? data.length >= head + 4 + bodyLen : data.endsWith('\r\n0\r\n\r\n')) finish(false);
    });
    s.on('connect', async () => {
      for (const c of chunks) {
        if (done || s.destroyed) return;
        s.write(c);
        if (opts.gapMs) await sleep(opts.gapMs);
      }
    });
  });
}

const TARGETS = [
  '/',
  '//[',
  'http://[::1',
  '/v1/chat/completions',
  '/v1/models',
  '/jsonstats',
  '/stats?access_token=%zz',
  '/%00',
  '/%',
  '*',
  'http://client:99999/x',
  'http://a:b@[:::1]/',
  '//@',
  '/\u00ff',
  `/${'a'.repeat(20_000)}`,
  '/request/debuglogentry?request_guid=%ff',
  '/request/topup?amount=1e9',
  '/metrics',
];

function rawCase(r: Rng, corpus: Buffer[]): Buffer {
  if (corpus.length > 0 && r.chance(0.3)) return mutate(r, r.pick(corpus), corpus);
  const method = r.pick([
    'GET',
    'POST',
    'PUT',
    'OPTIONS',
    'HEAD',
    'DELETE',
    'CONNECT',
    'PRI',
    'G\u0000T',
    '',
  ]);
  const target = r.pick(TARGETS);
  const version = r.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1', 'HTTP/9', '']);
  const body = r.chance(0.5) ? JSON.stringify(VALID) : r.bytes(r.int(40)).toString('latin1');
  const headers = [
    'Host: 127.0.0.1',
    ...r.pick([
      [`Content-Length: ${body.length}`],
      [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`],
      ['Transfer-Encoding: chunked'],
      ['Transfer-Encoding: chunked', `Content-Length: ${body.length}`],
      ['Content-Length: -1'],
      ['Content-Length: 99999999999999999999'],
      [`X-Bad: a\u0000b`],
      [`X-Long: ${'b'.repeat(20_000)}`],
      ['Authorization: Bearer \u00ff'],
      ['Expect: 100-continue', `Content-Length: ${body.length}`],
      [],
    ]),
  ];
  const chunked = headers.some((h) => h.includes('chunked'));
  const payload = chunked
    ? `${body.length.toString(16)}\r\n${body}\r\n${r.pick(['0\r\n\r\n', 'zz\r\n', ''])}`
    : body;
  const text = `${method} ${target} ${version}\r\n${headers.join('\r\n')}\r\n\r\n${payload}`;
  const raw = Buffer.from(text, 'latin1');
  return r.chance(0.3) ? mutate(r, raw) : raw;
}

test('raw requests: broken request lines, targets and headers get an answer or a close, never a crash', {
  timeout: fuzzTimeout(),
}, async (t) => {
  const seed = fuzzSeed();
  t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
  const r = rng(seed);
  const crashes = crashCollector(t);
  const corpusEntries = readCorpus('http').filter((e) => e.name.endsWith('.http'));
  assert.ok(corpusEntries.length > 0, 'no raw requests in the corpus');
  const corpus = corpusEntries.map((e) => e.data);
  const servers = [{ name: 'client API', port }, ...statsPorts];
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  // The API under test closes anything incomplete after its headers or body timeout (plus Node's check period).
  const bound = HEADERS_TIMEOUT_MS + BODY_TIMEOUT_MS + 1000 + 1500;
  const check = async (server: { name: string; port: number }, raw: Buffer): Promise<string | undefined> => {
    const isApi = server.port === port;
    const res = await exchange(server.port, [raw], {
      waitMs: isApi ? bound : 1000,
      head: raw.subarray(0, 5).toString('latin1') === 'HEAD ',
    });
    const m = /^HTTP\/1\.[01] (\d{3}) /.exec(res.data);
    // Contract operations need a chain, which this network has none of: their 502 is the right answer.
    const contractOp = /^POST \/request\/(topup|withdraw|close)[ ?]/.test(raw.toString('latin1'));
    if (m) {
      statuses[m[1]!] = (statuses[m[1]!] ?? 0) + 1;
      if (Number(m[1]) >= 500 && !(contractOp && m[1] === '502')) {
        return `${server.name}: status ${m[1]}: ${res.data.slice(0, 300)}`;
      }
    } else if (res.data !== '')
      return `${server.name}: not an HTTP answer: ${JSON.stringify(res.data.slice(0, 200))}`;
    else if (isApi && !res.closed)
      return `${server.name}: neither answered nor closed in ${Math.round(res.ms)} ms`;
    return undefined;
  };
  await Promise.all(
    corpusEntries.flatMap((e) =>
      servers.map(async (s) => {
        const bad = await check(s, e.data);
        if (bad) failures.push(`${e.name}: ${bad}`);
      }),
    ),
  );
  const b = budget(100, 0.45);
  const lane = async () => {
    while (b.more()) {
      const raw = rawCase(r, corpus);
      const server = r.chance(0.7) ? servers[0]! : r.pick(servers);
      const bad = await check(server, raw).catch((err: unknown) => `harness: ${describeError(err)}`);
      if (!bad) continue;
      const saved = saveFailure('http', raw, 'http');
      failures.push(
        `${bad}; request ${JSON.stringify(raw.toString('latin1').slice(0, 200))}${saved ? ` (saved as ${saved})` : ''}`,
      );
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  // Every server is still up and answering.
  await normal();
  for (const s of statsPorts) {
    const res = await fetch(`http://127.0.0.1:${s.port}/jsonstats`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200, s.name);
    await res.arrayBuffer();
  }
  report(t, {
    target: 'http-raw',
    iterations: b.iterations,
    seconds: b.seconds(),
    failures: failures.length,
    seed,
    extra: statuses,
  });
  assert.deepEqual(crashes, [], `uncaught exceptions (seed ${seed})`);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failing requests (seed ${seed})`);
});

// --- slow and oversized clients ---

function head(path: string, extra: string[] = []): Buffer {
  return Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra.map((h) => `${h}\r\n`).join('')}\r\n`,
  );
}

/** The status and the JSON error of a raw answer. */
function parsed(res: RawResult): { status: number; error: string | undefined } {
  const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(res.data)?.[1] ?? 0);
  const at = res.data.indexOf('\r\n\r\n');
  const ct = /\r\ncontent-type: *([^\r]*)/i.exec(res.data.slice(0, at))?.[1] ?? null;
  return { status, error: openAiError(status, res.data.slice(at + 4), ct) };
}

test('slowloris, bodies that never end and oversized bodies are cut in time; normal requests go on', {
  timeout: 120_000,
}, async (t) => {
  const crashes = crashCollector(t);
  const path = '/v1/chat/completions';
  const big = Buffer.alloc(MAX_BODY + 1024, 0x20);
  const headerBytes = Buffer.from(
    'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(200),
  );
  // Each connection either never finishes its headers or never finishes its body.
  const slow = {
    // One header byte every 100 ms, forever.
    slowloris: Array.from({ length: 12 }, () =>
      exchange(
        port,
        [...headerBytes].map((x) => Buffer.of(x)),
        { gapMs: 100, waitMs: 10_000 },
      ),
    ),
    // Connected, nothing sent.
    silent: Array.from({ length: 4 }, () => exchange(port, [], { waitMs: 10_000 })),
    // Half the headers, then silence.
    partial: Array.from({ length: 4 }, () =>
      exchange(port, [headerBytes.subarray(0, 40)], { waitMs: 10_000 }),
    ),
    // Headers done, 10 of 1000 body bytes.
    stalledBody: Array.from({ length: 4 }, () =>
      exchange(port, [head(path, ['Content-Length: 1000']), Buffer.from('{"model":')], { waitMs: 10_000 }),
    ),
    // A chunked body that drips one chunk every 100 ms, forever.
    drippingBody: Array.from({ length: 4 }, () =>
      exchange(
        port,
        [
          head(path, ['Transfer-Encoding: chunked']),
          ...Array.from({ length: 100 }, () => Buffer.from('1\r\n \r\n')),
        ],
        {
          gapMs: 100,
          waitMs: 10_000,
        },
      ),
    ),
    // Over the limit: announced, and chunked without end.
    tooLarge: [
      exchange(port, [head(path, [`Content-Length: ${big.length}`]), big], { waitMs: 10_000 }),
      exchange(
        port,
        [
          head(path, ['Transfer-Encoding: chunked']),
          ...Array.from({ length: 400 }, () => Buffer.from(`400\r\n${'x'.repeat(0x400)}\r\n`)),
        ],
        {
          gapMs: 2,
          waitMs: 10_000,
        },
      ),
    ],
  };
  // Meanwhile, normal requests keep being answered, promptly.
  const normals: number[] = [];
  const started = performance.now();
  while (performance.now() - started < HEADERS_TIMEOUT_MS + 1200) {
    normals.push((await normal()).ms);
    await sleep(50);
  }
  const results = Object.fromEntries(
    await Promise.all(Object.entries(slow).map(async ([k, ps]) => [k, await Promise.all(ps)] as const)),
  ) as Record<keyof typeof slow, RawResult[]>;
  // Closed by the server: after the timeout, within it plus Node's check period (timeout / 4) and some slack.
  const limit = (ms: number) => ms + Math.max(50, ms / 4) + 700;
  for (const k of ['slowloris', 'silent', 'partial'] as const) {
    for (const res of results[k]) {
      assert.ok(res.closed, `${k}: not closed by the server in ${Math.round(res.ms)} ms`);
      assert.ok(res.ms < limit(HEADERS_TIMEOUT_MS), `${k}: closed after ${Math.round(res.ms)} ms`);
      assert.ok(res.ms >= HEADERS_TIMEOUT_MS - 50, `${k}: closed early, after ${Math.round(res.ms)} ms`);
      assert.match(res.data, /^(HTTP\/1\.1 408 |$)/, k);
    }
  }
  for (const k of ['stalledBody', 'drippingBody'] as const) {
    for (const res of results[k]) {
      // The API's own answer, OpenAI-shaped, then the connection closes.
      const { status, error } = parsed(res);
      assert.equal(status, 408, `${k}: ${res.data.slice(0, 200)}`);
      assert.equal(error, undefined, `${k}: ${error}`);
      assert.ok(res.ms < limit(BODY_TIMEOUT_MS) + 200, `${k}: answered after ${Math.round(res.ms)} ms`);
      assert.match(res.data, /\r\nconnection: close\r\n/i, k);
    }
  }
  for (const res of results.tooLarge) {
    const { status, error } = parsed(res);
    assert.equal(status, 413, res.data.slice(0, 200));
    assert.equal(error, undefined, error);
    assert.match(res.data, /\r\nconnection: close\r\n/i);
  }
  const worst = Math.max(...normals);
  t.diagnostic(`${normals.length} normal requests meanwhile, slowest ${Math.round(worst)} ms`);
  assert.ok(normals.length >= 5, `only ${normals.length} normal requests were answered`);
  assert.ok(worst < 2000, `a normal request took ${Math.round(worst)} ms`);
  await normal();
  assert.deepEqual(crashes, []);
});

test("the network's own API refuses a body over its 16 MiB default with 413, and keeps answering", async () => {
  const apiPort = Number(new URL(network.apiUrl).port);
  const size = 16 * 1024 * 1024 + 1;
  const res = await exchange(
    apiPort,
    [head('/v1/chat/completions', [`Content-Length: ${size}`]), Buffer.alloc(size, 0x20)],
    { waitMs: 20_000 },
  );
  const { status, error } = parsed(res);
  assert.equal(status, 413, res.data.slice(0, 200));
  assert.equal(error, undefined, error);
  await normal(apiPort);
});

test('production defaults: headers 10 s, body 60 s, checked every second', () => {
  assert.equal(API_HEADERS_TIMEOUT_MS, 10_000);
  assert.equal(API_BODY_TIMEOUT_MS, 60_000);
  const s = clientApi({ node: network.client });
  assert.equal(s.headersTimeout, API_HEADERS_TIMEOUT_MS);
  assert.equal(s.requestTimeout, API_HEADERS_TIMEOUT_MS + API_BODY_TIMEOUT_MS + 1000);
  // Node's own default would check every 30 s, tripling the headers timeout.
  assert.equal((s as Server & { connectionsCheckingInterval?: number }).connectionsCheckingInterval, 1000);
});
