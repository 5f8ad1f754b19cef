// Back-pressure: an app that asks for a long stream and never reads it. The client must not hold the answer in
// memory: once more than its limit waits for the app, the request is dropped (and counted), and the network goes
// on serving others.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startLocalNetwork } from '../../src/node/network.ts';
import { HttpEngine } from '../../src/openai/engine.ts';

test('an app that stops reading a 100 MB stream is cut at the limit; others are served meanwhile', async () => {
  const piece = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x'.repeat(16_000) } }] })}\n\n`;
  const backend = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'big' }] }));
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const more = () => {
        // 100 MB: more than loopback's socket buffers (up to 32 MiB here) hold, so the client's own buffer grows.
        while (sent < 6250) {
          sent++;
          if (!res.write(piece)) return void res.once('drain', more);
        }
        res.end('data: [DONE]\n\n');
      };
      more();
    });
    res.on('error', () => {});
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url }), model: 'big' }],
    powDifficulty: 4,
    maxAppBuffer: 1024 * 1024,
  });
  try {
    const api = new URL(net.apiUrl);
    const body = JSON.stringify({ model: 'big', messages: [{ role: 'user', content: 'x' }], stream: true });
    const sock = connect(Number(api.port), api.hostname);
    await new Promise((r) => sock.once('connect', r));
    sock.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    sock.pause(); // never read a byte
    // The app's socket is paused, so it never sees the end of the stream; the client's metrics do.
    const t0 = Date.now();
    let metrics = '';
    while (Date.now() - t0 < 30_000) {
      metrics = await (await fetch(`${api.origin}/metrics`)).text();
      if (/cocoon_client_errors_total\{cause="slow_app"\} 1/.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(
      metrics,
      /cocoon_client_errors_total\{cause="slow_app"\} 1/,
      'the stalled app was never cut',
    );
    // Cut with at most the limit (plus a chunk) waiting for it in the client, not the whole answer.
    assert.ok(sock.bytesRead < 1_000_000);
    sock.destroy();
    // The network serves others meanwhile.
    const ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'x', maxRetries: 0 });
    const r = await ai.chat.completions.create({
      model: 'big',
      messages: [{ role: 'user', content: 'y' }],
      stream: true,
    });
    let n = 0;
    for await (const c of r) {
      n += c.choices[0]?.delta.content?.length ?? 0;
      if (n >= 1_000_000) break; // streaming to a reading app: enough seen
    }
    assert.ok(n >= 1_000_000);
  } finally {
    await net.close();
    backend.closeAllConnections();
    await new Promise<void>((r) => backend.close(() => r()));
  }
});
