// A fast OpenAI-compatible backend for benchmarks: answers every chat completion with the same fixed token
// stream (SSE when `stream` is set, one JSON body otherwise), with usage, as fast as it can.

import { createServer, type Server } from 'node:http';

export const BENCH_MODEL = 'bench-model';

export function fixedBackend(tokens: number): Server {
  const words = Array.from({ length: tokens }, (_, i) => `w${i % 100} `);
  const usage = { prompt_tokens: 12, completion_tokens: tokens, total_tokens: 12 + tokens };
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'b', object: 'chat.completion.chunk', created: 0, model: BENCH_MODEL, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const sse = [
    chunk({ role: 'assistant', content: '' }),
    ...words.map((w) => chunk({ content: w })),
    chunk({}, 'stop'),
    `data: ${JSON.stringify({ id: 'b', object: 'chat.completion.chunk', created: 0, model: BENCH_MODEL, choices: [], usage })}\n\n`,
    'data: [DONE]\n\n',
  ].join('');
  const json = JSON.stringify({
    id: 'b',
    object: 'chat.completion',
    created: 0,
    model: BENCH_MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }],
    usage,
  });
  return createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ object: 'list', data: [{ id: BENCH_MODEL, object: 'model', owned_by: 'bench' }] }),
      );
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const stream = /"stream"\s*:\s*true/.test(body);
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.end(stream ? sse : json);
    });
  });
}
