import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestEngine, type TestEngineServer } from '../../test/support/openai-server.ts';
import { EngineError } from '../errors.ts';
import { type EngineResponse, engineBody, HttpEngine } from './engine.ts';
import { ResponseStreamParser } from './stream.ts';

async function readAll(res: EngineResponse): Promise<{ text: string; chunks: number }> {
  const parts: Buffer[] = [];
  for await (const c of res.body) parts.push(Buffer.from(c));
  return { text: Buffer.concat(parts).toString(), chunks: parts.length };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  path: '/v1/chat/completions' as const,
  body: { model, messages: [{ role: 'user', content: 'What is the capital of France?' }], ...extra },
});

describe('HttpEngine against a local OpenAI-compatible server', () => {
  let srv: TestEngineServer;
  let engine: HttpEngine;
  before(async () => {
    srv = await startTestEngine();
    engine = new HttpEngine({ url: `${srv.url}/v1` });
  });
  after(() => srv.close());

  test('health and models come from GET /v1/models', async () => {
    assert.deepEqual(await engine.models(), [{ id: 'test-model', ownedBy: 'test' }]);
    const h = await engine.health();
    assert.equal(h.ok, true);
    assert.deepEqual(h.models, ['test-model']);
    const down = await new HttpEngine({ url: 'http://127.0.0.1:1' }).health();
    assert.equal(down.ok, false);
    assert.match(down.error ?? '', /ECONNREFUSED|fetch failed/);
  });

  test('streams SSE through unchanged, chunk by chunk, and takes usage from the final chunk', async () => {
    const res = await engine.request(chat('slow', { stream: true }));
    assert.equal(res.stream, true);
    assert.match(res.contentType, /text\/event-stream/);
    // The first chunk must arrive long before the whole answer (7 words, 40 ms apart): nothing is buffered.
    const t0 = performance.now();
    const it = res.body[Symbol.asyncIterator]();
    const first = await it.next();
    const firstAt = performance.now() - t0;
    assert.equal(first.done, false);
    let text = Buffer.from(first.value as Uint8Array).toString();
    for (let r = await it.next(); !r.done; r = await it.next()) text += Buffer.from(r.value).toString();
    const total = performance.now() - t0;
    assert.ok(firstAt < total / 2, `first chunk at ${firstAt} ms of ${total} ms`);
    assert.match(text, /data: \[DONE\]/);
    const f = await res.final;
    assert.equal(f.usageSource, 'engine');
    assert.deepEqual(f.usage, {
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 3 },
    });
    assert.equal(f.finishReason, 'stop');
    // include_usage was forced on the way in.
    assert.deepEqual(srv.seen.at(-1)?.body.stream_options, { include_usage: true });
  });

  test('parses NDJSON streams too', async () => {
    const res = await engine.request(chat('ndjson', { stream: true }));
    const { text } = await readAll(res);
    assert.equal(text.trim().split('\n').length, 10);
    assert.equal((await res.final).usage.completion_tokens, 7);
  });

  test('non-streaming answers, legacy completions, and tool calls pass through', async () => {
    const res = await engine.request(chat('ok'));
    const body = JSON.parse((await readAll(res)).text);
    assert.equal(body.choices[0].message.content, 'The capital of France is Paris.');
    assert.equal((await res.final).usageSource, 'engine');

    const comp = await engine.request({
      path: '/v1/completions',
      body: { model: 'ok', prompt: 'The capital of France' },
    });
    assert.equal(JSON.parse((await readAll(comp)).text).object, 'text_completion');
    assert.equal(srv.seen.at(-1)?.path, '/v1/completions');

    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const extra = {
      tools,
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      chat_template_kwargs: { enable_thinking: false },
    };
    const withTools = await engine.request(chat('ok', extra));
    const answer = JSON.parse((await readAll(withTools)).text);
    assert.equal(answer.choices[0].message.tool_calls[0].function.name, 'get_weather');
    const sent = srv.seen.at(-1)?.body ?? {};
    for (const [k, v] of Object.entries(extra)) assert.deepEqual(sent[k], v, k);
    assert.equal((await withTools.final).finishReason, 'tool_calls');
  });

  test('an engine that reports no usage is counted (estimate without a tokenizer, tokenizer with one)', async () => {
    const est = await engine.request(chat('nousage', { stream: true }));
    await readAll(est);
    const e = await est.final;
    assert.equal(e.usageSource, 'estimate');
    assert.ok(e.usage.completion_tokens > 0);

    const words = { count: (t: string) => t.split(/\s+/).filter(Boolean).length };
    const counted = new HttpEngine({ url: srv.url, tokenizer: words });
    const res = await counted.request(chat('nousage'));
    await readAll(res);
    const f = await res.final;
    assert.equal(f.usageSource, 'tokenizer');
    assert.equal(f.usage.completion_tokens, 6); // "The capital of France is Paris."
    assert.equal(f.usage.prompt_tokens, 7); // "user\nWhat is the capital of France?"
  });

  test('a mid-stream disconnect fails that request with ENGINE_DISCONNECTED', async () => {
    const res = await engine.request(chat('disconnect', { stream: true }));
    await assert.rejects(
      readAll(res),
      (err: unknown) => err instanceof EngineError && err.code === 'ENGINE_DISCONNECTED',
    );
    await assert.rejects(res.final, { code: 'ENGINE_DISCONNECTED' });
  });

  test('garbage bytes fail that request with ENGINE_BAD_RESPONSE', async () => {
    for (const stream of [true, false]) {
      const res = await engine.request(chat('garbage', { stream }));
      await assert.rejects(readAll(res), { code: 'ENGINE_BAD_RESPONSE' });
      await assert.rejects(res.final, { code: 'ENGINE_BAD_RESPONSE' });
    }
  });

  test('an HTTP error from the engine is passed on with its status', async () => {
    const res = await engine.request(chat('error'));
    assert.equal(res.status, 400);
    assert.match((await readAll(res)).text, /model not found/);
    assert.equal((await res.final).usage.total_tokens, 0);
  });

  test('the client going away aborts the engine request', async () => {
    const ctl = new AbortController();
    const res = await engine.request({ ...chat('stall', { stream: true }), signal: ctl.signal });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    ctl.abort();
    await assert.rejects(
      (async () => {
        for (let r = await it.next(); !r.done; r = await it.next());
      })(),
      { code: 'CANCELLED' },
    );
    await waitFor(() => srv.seen.at(-1)?.aborted === true);

    // Stopping reading early is the same as going away.
    const res2 = await engine.request(chat('stall', { stream: true }));
    for await (const _ of res2.body) break;
    await assert.rejects(res2.final, { code: 'CANCELLED' });
    await waitFor(() => srv.seen.at(-1)?.aborted === true);
  });

  test('timeouts and unreachable engines are typed errors', async () => {
    const res = await engine.request({ ...chat('stall', { stream: true }), timeoutMs: 300 });
    await assert.rejects(readAll(res), { code: 'ENGINE_TIMEOUT' });
    await assert.rejects(engine.request({ ...chat('stall'), timeoutMs: 200 }), { code: 'ENGINE_TIMEOUT' });
    await assert.rejects(new HttpEngine({ url: 'http://127.0.0.1:1' }).request(chat('ok')), {
      code: 'ENGINE_UNREACHABLE',
    });
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('engineBody', () => {
  test('forces include_usage when streaming and turns stream_options into a stream', () => {
    assert.deepEqual(engineBody({ stream: true }), { stream: true, stream_options: { include_usage: true } });
    assert.deepEqual(engineBody({ stream_options: { include_obfuscation: false } }), {
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
    assert.deepEqual(engineBody({ stream: false }), { stream: false });
  });
});

describe('ResponseStreamParser', () => {
  const feed = (parts: string[]) => {
    const p = new ResponseStreamParser();
    const out = parts.flatMap((s) => p.push(Buffer.from(s)));
    return [...out, ...p.end()];
  };

  test('SSE split at every byte boundary gives the same events', () => {
    const text = ': hi\n\ndata: {"a":1}\r\n\r\nevent: x\ndata: {"b":\ndata: 2}\n\ndata: [DONE]\n\n';
    const whole = feed([text]);
    assert.deepEqual(whole, [
      { kind: 'json', value: { a: 1 } },
      { kind: 'json', value: { b: 2 } },
      { kind: 'done' },
    ]);
    for (let i = 1; i < text.length; i++) assert.deepEqual(feed([text.slice(0, i), text.slice(i)]), whole);
  });

  test('JSON bodies, NDJSON and concatenated values, with strings holding braces', () => {
    assert.deepEqual(feed(['{"a":"}{\\"","b":[1,{"c":2}]}']), [
      { kind: 'json', value: { a: '}{"', b: [1, { c: 2 }] } },
    ]);
    assert.deepEqual(feed(['{"a":1}\n{"a"', ':2}{"a":3}']).length, 3);
  });

  test('malformed input is a typed error', () => {
    for (const bad of ['data: {nope}\n\n', '{"a":1', 'hello world\n', '{"a":1} x']) {
      assert.throws(() => feed([bad]), { code: 'ENGINE_BAD_RESPONSE' }, bad);
    }
    const p = new ResponseStreamParser();
    assert.throws(() => p.push(Uint8Array.of(0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0x0a)), {
      code: 'ENGINE_BAD_RESPONSE',
    });
  });
});
