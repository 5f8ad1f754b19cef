// A local OpenAI-compatible HTTP server for engine tests: real sockets, SSE streaming, NDJSON, tool calls, a final
// usage chunk, an echo (a last message "echo:TEXT" is answered with TEXT), and misbehaviours on request (a mid-stream disconnect, garbage bytes, no usage, a stall). The
// behaviour is chosen by the request's `model` field.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  path: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  /** Set when the client closed the connection before the answer ended. */
  aborted: boolean;
}

export interface TestEngineServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const DEFAULT_WORDS = ['The', ' capital', ' of', ' France', ' is', ' Paris', '.'];

function chunk(id: string, delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id,
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

export async function startTestEngine(): Promise<TestEngineServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => {
      raw += d.toString();
    });
    req.on('end', () => {
      const rec: Seen = { path: req.url ?? '', body: {}, headers: req.headers, aborted: false };
      seen.push(rec);
      res.on('close', () => {
        if (!res.writableFinished) rec.aborted = true;
      });
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model', owned_by: 'test' }] }),
        );
        return;
      }
      try {
        rec.body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"bad json"}}');
        return;
      }
      void answer(rec.body, req.url ?? '', res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function answer(body: Record<string, unknown>, path: string, res: ServerResponse): Promise<void> {
  const mode = String(body.model ?? 'ok');
  const stream = body.stream === true;
  const wantUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const usage = {
    prompt_tokens: 11,
    completion_tokens: 7,
    total_tokens: 18,
    prompt_tokens_details: { cached_tokens: 3 },
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
  // A last message starting "echo:" is answered with its text, in three parts when streamed.
  const messages = Array.isArray(body.messages) ? (body.messages as { content?: unknown }[]) : [];
  const last = messages.at(-1)?.content;
  const echo = typeof last === 'string' && last.startsWith('echo:') ? last.slice(5) : undefined;
  const WORDS = echo === undefined ? DEFAULT_WORDS : [echo.slice(0, 3), echo.slice(3, 9), echo.slice(9)];

  if (mode === 'error') {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"model not found","type":"invalid_request_error"}}');
    return;
  }
  if (mode === 'garbage') {
    res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
    res.write(stream ? `data: ${JSON.stringify(chunk('g', { content: 'ok' }))}\n\n` : '');
    res.end(Buffer.from([0x3c, 0x68, 0x74, 0x6d, 0x6c, 0xff, 0xfe, 0x00, 0x3e]));
    return;
  }
  if (!stream) {
    if (mode === 'stall') await sleep(60_000);
    const msg: Record<string, unknown> = { role: 'assistant', content: WORDS.join('') };
    if (Array.isArray(body.tools)) {
      msg.content = null;
      msg.tool_calls = [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ];
    }
    const out: Record<string, unknown> = {
      id: 'c1',
      object: path === '/v1/completions' ? 'text_completion' : 'chat.completion',
      choices:
        path === '/v1/completions'
          ? [{ index: 0, text: WORDS.join(''), finish_reason: 'stop' }]
          : [{ index: 0, message: msg, finish_reason: Array.isArray(body.tools) ? 'tool_calls' : 'stop' }],
    };
    if (mode !== 'nousage') out.usage = usage;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
    return;
  }
  const ndjson = mode === 'ndjson';
  res.writeHead(200, { 'content-type': ndjson ? 'application/x-ndjson' : 'text/event-stream' });
  const send = (o: unknown) =>
    res.write(ndjson ? `${JSON.stringify(o)}\n` : `data: ${JSON.stringify(o)}\n\n`);
  res.write(ndjson ? '' : ': keep-alive\n\n');
  send(chunk('s', { role: 'assistant', content: '' }));
  for (let i = 0; i < WORDS.length; i++) {
    if (mode === 'stall' && i === 2) await sleep(60_000);
    if (mode === 'disconnect' && i === 3) {
      res.socket?.destroy();
      return;
    }
    send(chunk('s', { content: WORDS[i] }));
    await sleep(mode === 'slow' ? 40 : 2);
  }
  send(chunk('s', {}, 'stop'));
  if (wantUsage && mode !== 'nousage') {
    send({ id: 's', object: 'chat.completion.chunk', choices: [], usage });
  }
  if (!ndjson) res.write('data: [DONE]\n\n');
  res.end();
}
