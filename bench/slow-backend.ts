// A paced OpenAI-compatible backend for soak runs: every streamed chat completion yields one token per tick
// (like a GPU serving many sequences), so hundreds of answers stay open at once. One shared timer drives all
// streams, so a thousand open answers cost one timer, not a thousand.
//
//   node --import tsx bench/slow-backend.ts PORT TOKENS TICK_MS   → prints "listening PORT"

import { createServer, type ServerResponse } from 'node:http';

export const SOAK_MODEL = 'soak-model';

export function slowBackend(tokens: number, tickMs: number) {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 's', object: 'chat.completion.chunk', created: 0, model: SOAK_MODEL, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const usage = { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens };
  const tail =
    chunk({}, 'stop') +
    `data: ${JSON.stringify({ id: 's', object: 'chat.completion.chunk', created: 0, model: SOAK_MODEL, choices: [], usage })}\n\n` +
    'data: [DONE]\n\n';
  const open = new Map<ServerResponse, number>();
  const timer = setInterval(() => {
    for (const [res, sent] of open) {
      if (sent === tokens) {
        open.delete(res);
        res.end(tail);
      } else {
        open.set(res, sent + 1);
        res.write(chunk({ content: `t${sent} ` }));
      }
    }
  }, tickMs);
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ object: 'list', data: [{ id: SOAK_MODEL, object: 'model', owned_by: 'soak' }] }),
      );
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: '' }));
      open.set(res, 0);
      res.on('close', () => open.delete(res));
    });
  });
  server.on('close', () => clearInterval(timer));
  return server;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [port, tokens, tick] = process.argv.slice(2).map(Number);
  const s = slowBackend(tokens ?? 100, tick ?? 50);
  s.listen(port ?? 0, '127.0.0.1', () => {
    process.stdout.write(`listening ${(s.address() as { port: number }).port}\n`);
  });
}
