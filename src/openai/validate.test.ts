import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonStrict, validateRequest } from './validate.ts';

const chat = (extra: Record<string, unknown>) =>
  JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });

test('accepts the allowed fields, including tools and chat_template_kwargs, and forces usage on streams', () => {
  const body = validateRequest(
    '/v1/chat/completions',
    chat({
      temperature: 0.5,
      top_p: 1,
      max_completion_tokens: 100,
      max_tokens: 50,
      stream: true,
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      chat_template_kwargs: { enable_thinking: false },
      seed: 7,
      stop: ['\n'],
    }),
  );
  assert.deepEqual(body.stream_options, { include_usage: true });
  assert.equal(body.max_tokens, undefined, 'max_completion_tokens wins');
  assert.equal(
    validateRequest('/v1/chat/completions', chat({ stream_options: { include_usage: false } })).stream,
    true,
  );
  const c = validateRequest(
    '/v1/completions',
    JSON.stringify({ model: 'm', prompt: ['a', 'b'], echo: false, best_of: 2 }),
  );
  assert.deepEqual(c.prompt, ['a', 'b']);
});

test('refuses every malformed body with a message naming the field', () => {
  const cases: [string, string, RegExp][] = [
    [
      '/v1/chat/completions',
      '{"model":"m","model":"n","messages":[{"role":"user"}]}',
      /duplicate key "model"/,
    ],
    [
      '/v1/chat/completions',
      '{"model":"m","messages":[{"role":"user","content":"a","content":"b"}]}',
      /duplicate key "content"/,
    ],
    ['/v1/chat/completions', chat({ logit_bias: {} }), /logit_bias is not allowed/],
    ['/v1/chat/completions', chat({ max_coefficient: 4000 }), /max_coefficient is not allowed/],
    ['/v1/chat/completions', chat({ temperature: 3 }), /temperature/],
    ['/v1/chat/completions', chat({ n: 0 }), /n must be/],
    ['/v1/chat/completions', chat({ stream_options: { include_usage: 1 } }), /include_usage/],
    ['/v1/chat/completions', chat({ stream_options: { other: true } }), /stream_options.other/],
    ['/v1/chat/completions', chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), /stop/],
    ['/v1/chat/completions', chat({ messages: [] }), /messages/],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user' }] }), /model is required/],
    ['/v1/chat/completions', '[1,2]', /must be an object/],
    ['/v1/chat/completions', '{"model":', /not JSON/],
    ['/v1/completions', JSON.stringify({ model: 'm' }), /prompt is required/],
    ['/v1/completions', JSON.stringify({ model: 'm', prompt: 'x', messages: [] }), /messages is not allowed/],
  ];
  for (const [path, body, want] of cases) assert.throws(() => validateRequest(path, body), want, body);
  assert.throws(() => validateRequest('/v1/embeddings', chat({})), { code: 'UNSUPPORTED_METHOD' });
});

test('duplicate keys are found at any depth, never in strings or arrays', () => {
  assert.deepEqual(parseJsonStrict('{"a":["{\\"a\\":1}",{"a":1},{"a":2}],"b":{"a":{"a":1}}}'), {
    a: ['{"a":1}', { a: 1 }, { a: 2 }],
    b: { a: { a: 1 } },
  });
  assert.throws(() => parseJsonStrict('{"x":{"y":1,"z":[1,{"q":1,"q":2}]}}'), /duplicate key "q"/);
});
