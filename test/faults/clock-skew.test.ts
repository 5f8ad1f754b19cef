// Clock skew between machines: a worker whose clock runs four minutes ahead and a client whose clock runs four
// minutes behind still join the proxy and serve (their fresh certificates are "from the future" for the
// proxy); a worker whose clock is two days ahead is refused with the reason, without harm to anyone else.
// Afterwards every request has ended and the proxy's books and both nodes' signed amounts agree to the token.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import OpenAI from 'openai';
import { freePort, writeRootConfig } from '../support/local-root.ts';
import { NodeProcesses } from '../support/node-process.ts';
import { startTestEngine } from '../support/openai-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-skew-'));
const nodes = new NodeProcesses();
after(() => {
  nodes.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const skewed = (ms: number) => ({
  execArgv: ['--import', new URL('../support/skewed-clock.mjs', import.meta.url).href],
  env: { COCOON_TEST_CLOCK_SKEW_MS: String(ms) },
});
const json = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const MIN = 60_000;

test('nodes whose clocks are minutes apart work together; two days apart is refused with the reason', async () => {
  const engine = await startTestEngine();
  try {
    const [wp, cp, ps, ws, ws2, api] = await Promise.all(Array.from({ length: 6 }, freePort));
    const rootFile = join(dir, 'root.json');
    await writeRootConfig(rootFile, {
      workers: `127.0.0.1:${wp}`,
      clients: `127.0.0.1:${cp}`,
      model: 'test-model',
      rootAddress: `0:${'ef'.repeat(32)}`,
    });
    const common = ['--root-config', rootFile, '--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'];
    await nodes.start(
      [
        ...[
          'proxy',
          ...common,
          '--dir',
          join(dir, 'p'),
          '--workers-port',
          `${wp}`,
          '--clients-port',
          `${cp}`,
        ],
        ...['--stats-port', `${ps}`, '--pow-difficulty', '8'],
      ],
      /proxy: workers on/,
    );
    await nodes.start(
      ['worker', ...common, '--dir', join(dir, 'w'), '--backend', engine.url, '--stats-port', `${ws}`],
      /worker: connected/,
      skewed(4 * MIN),
    );
    await nodes.start(
      ['client', ...common, '--dir', join(dir, 'c'), '--port', `${api}`],
      /client: connected/,
      skewed(-4 * MIN),
    );
    // Two days ahead: its certificate is not valid for the proxy yet, and the proxy's has expired for it.
    const far = nodes.launch(
      [
        ...['worker', ...common, '--dir', join(dir, 'w2'), '--backend', engine.url, '--stats-port', `${ws2}`],
        ...['--log-level', 'info'],
      ],
      /worker: connected/,
      skewed(2 * 24 * 60 * MIN),
    );

    const ai = new OpenAI({
      baseURL: `http://127.0.0.1:${api}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      timeout: 10_000,
    });
    let billed = 0n;
    for (let i = 0; i < 12; i++) {
      const r = await ai.chat.completions.create({
        model: 'test-model',
        messages: [{ role: 'user', content: `q${i}` }],
        stream: i % 2 === 0,
      });
      if (i % 2 === 0) {
        for await (const c of r as AsyncIterable<OpenAI.ChatCompletionChunk>)
          if (c.usage) billed += BigInt((c.usage as unknown as { billed_tokens: number }).billed_tokens);
      } else
        billed += BigInt(
          ((r as OpenAI.ChatCompletion).usage as unknown as { billed_tokens: number }).billed_tokens,
        );
    }

    // The worker checks the proxy's certificate first (the proxy's has expired by its clock) and says why.
    let joined = false;
    far.ready.then(
      () => {
        joined = true;
      },
      () => {},
    );
    for (let i = 0; i < 300 && !/validity window/.test(far.stderr()); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(far.stderr(), /proxy 127\.0\.0\.1:\d+: a certificate is outside its validity window/);
    assert.equal(joined, false, 'the worker two days ahead never joins');
    assert.equal(far.child.exitCode, null, 'and keeps running, retrying');
    type Stats = {
      clients: { committed: number }[];
      workers: { committed: number }[];
    };
    let p = await json<Stats>(`http://127.0.0.1:${ps}/jsonstats`);
    let w = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${ws}/jsonstats`);
    let c = await json<{ proxies: { signed_tokens: number }[] }>(`http://127.0.0.1:${api}/jsonstats`);
    for (let i = 0; i < 100; i++) {
      if (
        p.clients[0]?.committed === c.proxies[0]?.signed_tokens &&
        p.workers[0]?.committed === w.proxies[0]?.signed_tokens
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
      p = await json<Stats>(`http://127.0.0.1:${ps}/jsonstats`);
      w = await json(`http://127.0.0.1:${ws}/jsonstats`);
      c = await json(`http://127.0.0.1:${api}/jsonstats`);
    }
    assert.equal(p.workers.length, 1, 'only the worker within the skew joined');
    const committed = BigInt(p.clients[0]?.committed ?? -1);
    assert.ok(committed > 0n);
    assert.equal(billed, committed, 'the app was billed exactly what the proxy committed');
    assert.equal(BigInt(c.proxies[0]?.signed_tokens ?? -1), committed, 'the client holds the charge');
    assert.equal(BigInt(w.proxies[0]?.signed_tokens ?? -1), BigInt(p.workers[0]?.committed ?? -2));
    assert.equal(BigInt(p.workers[0]?.committed ?? -1), committed);
  } finally {
    await engine.close();
  }
});
