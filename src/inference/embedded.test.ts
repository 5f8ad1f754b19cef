import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { EngineResponse } from '../openai/engine.ts';
import { ResponseStreamParser } from '../openai/stream.ts';
import { EmbeddedEngine } from './embedded.ts';
import { EMBEDDED_MODEL_PATH } from './models.ts';

async function collect(res: EngineResponse): Promise<string> {
  let s = '';
  for await (const c of res.body) s += Buffer.from(c).toString();
  return s;
}

/** The text of a streamed answer, from its SSE chunks. */
function streamedText(sse: string): { text: string; finish?: string; usage?: Record<string, number> } {
  const p = new ResponseStreamParser();
  const items = [...p.push(Buffer.from(sse)), ...p.end()];
  let text = '';
  let finish: string | undefined;
  let usage: Record<string, number> | undefined;
  for (const it of items) {
    if (it.kind !== 'json') continue;
    const v = it.value as {
      choices: { delta?: { content?: string }; text?: string; finish_reason?: string | null }[];
      usage?: Record<string, number>;
    };
    for (const c of v.choices) {
      text += c.delta?.content ?? c.text ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
    if (v.usage) usage = v.usage;
  }
  const out: { text: string; finish?: string; usage?: Record<string, number> } = { text };
  if (finish) out.finish = finish;
  if (usage) out.usage = usage;
  return out;
}

describe('the embedded engine with the demo model', () => {
  let engine: EmbeddedEngine;
  before(async () => {
    engine = await EmbeddedEngine.load({
      modelPath: EMBEDDED_MODEL_PATH,
      modelName: 'cocoon-demo',
      parallel: 1,
    });
  });
  after(() => engine.close());

  const ask = async (content: string, extra: Record<string, unknown> = {}) => {
    const res = await engine.request({
      path: '/v1/chat/completions',
      body: { model: 'cocoon-demo', messages: [{ role: 'user', content }], temperature: 0, ...extra },
    });
    assert.equal(res.status, 200);
    const body = JSON.parse(await collect(res));
    return { text: body.choices[0].message.content as string, body, final: await res.final };
  };

  // Phrasings that are not among the training templates (model/corpus.py), and sums held out of training.
  const questions: [string, RegExp][] = [
    ['Name the capital of France.', /\bParis\b/],
    ['Do you know which city is the capital of Japan?', /\bTokyo\b/],
    ['Please name the capital city of Germany.', /\bBerlin\b/],
    ['Which money is used in Japan?', /\bJapanese Yen\b/],
    ['Name the currency of Switzerland.', /\bSwiss Franc\b/],
    ['Kenya is located on which continent?', /\bAfrica\b/],
    // (12, 56) and (89, 48) are among the pairs left out of training entirely.
    ['Sum of 12 and 56?', /= 68\b/],
    ['Add 89 to 48.', /= 137\b/],
    ['Sum of 23 and 19?', /= 42\b/],
  ];
  for (const [q, want] of questions) {
    test(`answers ${JSON.stringify(q)} at temperature 0`, async () => {
      const { text } = await ask(q);
      assert.match(text, want);
    });
  }

  test('is deterministic at temperature 0 and token counts are the tokenizer’s', async () => {
    const a = await ask('Name the capital of Italy.');
    const b = await ask('Name the capital of Italy.');
    assert.equal(a.text, b.text);
    const body = { messages: [{ role: 'user', content: 'Name the capital of Italy.' }] };
    assert.equal(a.final.usage.prompt_tokens, engine.tokenize(engine.renderChat(body)).length);
    assert.equal(a.final.usage.completion_tokens, engine.tokenize(a.text).length);
    assert.deepEqual(a.body.usage, a.final.usage);
    assert.equal(a.final.usageSource, 'engine');
  });

  test('streamed text equals non-streamed text for the same seed', async () => {
    const opts = { temperature: 0.9, seed: 1234, max_tokens: 40 };
    const whole = await ask('Tell me something about Peru.', opts);
    const res = await engine.request({
      path: '/v1/chat/completions',
      body: {
        model: 'm',
        messages: [{ role: 'user', content: 'Tell me something about Peru.' }],
        stream: true,
        ...opts,
      },
    });
    const sse = await collect(res);
    const s = streamedText(sse);
    assert.equal(s.text, whole.text);
    assert.match(sse, /data: \[DONE\]\n\n$/);
    assert.deepEqual(s.usage, (await res.final).usage);
  });

  test('max_tokens, stop strings and the legacy completions API', async () => {
    const short = await ask('What is the capital of Spain?', { max_tokens: 3 });
    assert.equal(short.final.usage.completion_tokens, 3);
    assert.equal(short.body.choices[0].finish_reason, 'length');
    const full = await ask('What is the capital of Spain?');
    assert.equal(full.text, 'The capital of Spain is Madrid.');
    assert.equal(full.body.choices[0].finish_reason, 'stop');
    const stopped = await ask('What is the capital of Spain?', { stop: [' is'] });
    assert.equal(stopped.text, 'The capital of Spain');
    assert.equal(stopped.body.choices[0].finish_reason, 'stop');
    const res = await engine.request({
      path: '/v1/completions',
      body: {
        model: 'm',
        prompt: '<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n',
        temperature: 0,
      },
    });
    const body = JSON.parse(await collect(res));
    assert.equal(body.object, 'text_completion');
    assert.equal(body.choices[0].text, '2 + 2 = 4.');
  });

  test('bad requests get a 400 answer, not an exception', async () => {
    for (const body of [
      { messages: 'hi' },
      { messages: [{ role: 'user', content: 'hi' }], temperature: 5 },
      { messages: [{ role: 'user', content: 'hi' }], max_tokens: -1 },
      { messages: [{ role: 'user', content: 'hi' }], n: 2 },
      { messages: [{ role: 'user', content: [{ type: 'image_url' }] }] },
      { messages: [{ role: 'user', content: 'x'.repeat(5000) }] },
    ]) {
      const res = await engine.request({ path: '/v1/chat/completions', body: { model: 'm', ...body } });
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(JSON.parse(await collect(res)).error.message, /\w/);
    }
  });

  test('a cancelled request stops and frees the model for the next one', async () => {
    const ctl = new AbortController();
    const res = await engine.request({
      path: '/v1/chat/completions',
      body: { model: 'm', messages: [{ role: 'user', content: 'Hello' }], stream: true, temperature: 0 },
      signal: ctl.signal,
    });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    ctl.abort();
    await assert.rejects(
      (async () => {
        for (let r = await it.next(); !r.done; r = await it.next());
      })(),
      { code: 'CANCELLED' },
    );
    await assert.rejects(res.final, { code: 'CANCELLED' });
    assert.match((await ask('Name the capital of France.')).text, /Paris/);
  });

  test('requests are served in arrival order', async () => {
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const res = await engine.request({
          path: '/v1/chat/completions',
          body: { model: 'm', messages: [{ role: 'user', content: `What is ${i} + ${i}?` }], temperature: 0 },
        });
        await collect(res);
        order.push(i);
      }),
    );
    assert.deepEqual(order, [0, 1, 2, 3]);
  });

  test('the model tokenizes exactly as the training pipeline did', () => {
    const check = JSON.parse(
      readFileSync(new URL('../../model/tokenizer-check.json', import.meta.url), 'utf8'),
    ) as {
      text: string;
      ids: number[];
    }[];
    assert.ok(check.length >= 10);
    for (const { text, ids } of check) assert.deepEqual(engine.tokenize(text), ids, text);
  });
});
