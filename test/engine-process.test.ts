import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { startTestEngine } from './support/openai-server.ts';

const bin = new URL('../bin/cocoon.js', import.meta.url).pathname;

/** Starts `cocoon engine` on a free port and resolves with its base URL. */
async function startWorker(args: string[]) {
  const child = spawn(process.execPath, [bin, 'engine', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /OpenAI API on (\S+)\/v1/.exec(l);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`engine exited ${code}: ${err}`)));
  });
  return { child, url };
}

test('cocoon engine --model embedded answers OpenAI requests over loopback, streaming, and stops cleanly', async (t) => {
  const { child, url } = await startWorker(['--model', 'embedded']);
  t.after(() => child.kill('SIGKILL'));
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
  assert.equal(models.data[0]?.id, 'cocoon-demo');
  assert.equal((await fetch(`${url}/healthz`)).status, 200);

  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'cocoon-demo',
      messages: [{ role: 'user', content: 'Name the capital of France.' }],
      temperature: 0,
    }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    choices: { message: { content: string } }[];
    usage: { completion_tokens: number };
  };
  assert.match(body.choices[0]?.message.content ?? '', /Paris/);
  assert.ok(body.usage.completion_tokens > 0);

  const streamed = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'cocoon-demo',
      messages: [{ role: 'user', content: 'What is 40 + 2?' }],
      temperature: 0,
      stream: true,
    }),
  });
  assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
  const sse = await streamed.text();
  assert.match(sse, /"usage":\{"prompt_tokens":\d+/);
  assert.match(sse, /data: \[DONE\]/);

  const bad = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{not json' });
  assert.equal(bad.status, 400);

  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0);
});

test('cocoon engine --backend URL serves an OpenAI-compatible engine through the same API', async (t) => {
  const engine = await startTestEngine();
  t.after(() => engine.close());
  const { child, url } = await startWorker(['--backend', engine.url]);
  t.after(() => child.kill('SIGKILL'));
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true }),
  });
  const text = await res.text();
  assert.match(text, /Paris/);
  assert.deepEqual(engine.seen.at(-1)?.body.stream_options, { include_usage: true });

  // A client that goes away mid-answer cancels the engine's request.
  const ctl = new AbortController();
  const stalled = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'stall', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    signal: ctl.signal,
  });
  const reader = stalled.body!.getReader();
  await reader.read();
  ctl.abort();
  for (let i = 0; i < 300 && engine.seen.at(-1)?.aborted !== true; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(engine.seen.at(-1)?.aborted, true);
});

test('cocoon chat streams one answer from the embedded model', () => {
  const r = spawnSync(
    process.execPath,
    [bin, 'chat', '--temperature', '0', '--usage', 'Do you know the capital of Japan?'],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Tokyo/);
  assert.match(r.stderr, /usage: \d+ prompt \+ \d+ completion tokens \(engine\), finish stop/);
});

test('cocoon bench model --quick --json prints its figures', () => {
  const r = spawnSync(process.execPath, [bin, 'bench', 'model', '--quick', '--json'], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout) as Record<string, number>;
  for (const k of ['load_ms', 'prompt_tps', 'gen_tps', 'ttft_ms', 'rss_mb', 'baseline_gen_tps']) {
    assert.ok(typeof o[k] === 'number' && o[k] > 0, `${k}: ${o[k]}`);
  }
  assert.equal(o.gen_tokens_per_run, 200);
});
