// The runners as separate processes, as an operator starts them: `cocoon proxy`, `cocoon worker` and
// `cocoon client` on a JSON root config; and `cocoon up`, the whole network on the devnet, driven with the
// official openai package, stopped with SIGINT and resumed from its directory.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { freePort, writeRootConfig } from './support/local-root.ts';
import { COCOON_BIN, NodeProcesses } from './support/node-process.ts';
import { startTestEngine } from './support/openai-server.ts';

describe('runners as processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-procs-'));
  const nodes = new NodeProcesses();
  after(() => {
    nodes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('cocoon proxy, worker and client on a JSON root config answer the openai SDK, and stop on SIGTERM', async () => {
    const engine = await startTestEngine();
    try {
      const [wp, cp] = [await freePort(), await freePort()];
      const rootFile = join(dir, 'root.json');
      await writeRootConfig(rootFile, {
        workers: `127.0.0.1:${wp}`,
        clients: `127.0.0.1:${cp}`,
        model: 'test-model',
      });
      const common = ['--root-config', rootFile, '--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'];
      const proxy = nodes.run([
        'proxy',
        ...common,
        '--dir',
        join(dir, 'p'),
        '--workers-port',
        `${wp}`,
        '--clients-port',
        `${cp}`,
        '--stats-port',
        '0',
        '--pow-difficulty',
        '8',
      ]);
      await proxy.waitFor(/proxy: workers on/);
      const worker = nodes.run([
        'worker',
        ...common,
        '--dir',
        join(dir, 'w'),
        '--backend',
        engine.url,
        '--stats-port',
        '0',
        '--coefficient',
        '1.5',
      ]);
      const client = nodes.run(['client', ...common, '--dir', join(dir, 'c'), '--port', '0']);
      await worker.waitFor(/worker: connected to proxy/);
      const api = await client.waitFor(/OpenAI API on (\S+)/);
      await client.waitFor(/client: connected to proxy/);
      const ai = new OpenAI({ baseURL: api, apiKey: 'unused', maxRetries: 0 });
      const r = await ai.chat.completions.create({
        model: 'test-model',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(r.choices[0]?.message.content, 'The capital of France is Paris.');
      // Coefficient 1.5: 8 uncached prompt, 3 cached and 7 completion tokens become 12 + 4 + 10 = 26 at 20 nanoTON.
      assert.equal((r.usage as unknown as { total_cost: number }).total_cost, 520);
      const s = await ai.chat.completions.create({
        model: 'test-model',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      for await (const c of s) text += c.choices[0]?.delta.content ?? '';
      assert.equal(text, 'The capital of France is Paris.');
      for (const p of [client, worker, proxy]) p.child.kill('SIGTERM');
      assert.deepEqual(await Promise.all([client.exit, worker.exit, proxy.exit]), [0, 0, 0]);
    } finally {
      await engine.close();
    }
  });
});

describe('cocoon up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-up-'));
  const nodes = new NodeProcesses();
  after(() => {
    nodes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('starts the whole network on the devnet, streams to the openai SDK, stops on Ctrl-C and resumes', async () => {
    const up = nodes.run(['up', '--dir', dir, '--port', '0']);
    const api = await up.waitFor(/OpenAI API: (\S+)/, 120_000);
    await up.waitFor(/Ctrl-C stops the network/);
    assert.ok(
      up.lines.some((l) => /deploying the root contract/.test(l)),
      up.lines.join('\n'),
    );
    assert.ok(
      up.lines.some((l) => /curl -N/.test(l)),
      up.lines.join('\n'),
    );
    const ai = new OpenAI({ baseURL: api, apiKey: 'unused', maxRetries: 0 });
    const s = await ai.chat.completions.create({
      model: 'cocoon-demo',
      messages: [{ role: 'user', content: 'What is the capital of Peru?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let cost = 0;
    for await (const c of s) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) cost = (c.usage as unknown as { total_cost: number }).total_cost;
    }
    assert.match(text, /Lima/);
    assert.ok(cost > 0, `no cost in the usage of: ${text}`);
    // The money side: the client contract is funded on the devnet and the proxy's signed charge is the answer's cost.
    const status = spawnSync(process.execPath, [COCOON_BIN, 'client', 'status', '--dir', dir, '--json'], {
      encoding: 'utf8',
    });
    assert.equal(status.status, 0, status.stderr);
    const st = JSON.parse(status.stdout) as {
      balance: number;
      stake: number;
      charged_nanoton: number;
      state: string;
    };
    assert.equal(st.charged_nanoton, cost);
    assert.ok(st.balance >= st.stake && st.stake > 0, status.stdout);
    assert.equal(st.state, 'normal');
    up.child.kill('SIGINT');
    assert.equal(await up.exit, 0);

    // The same directory again: the root is found, not deployed anew.
    const again = nodes.run(['up', '--dir', dir, '--port', '0']);
    const api2 = await again.waitFor(/OpenAI API: (\S+)/, 120_000);
    assert.ok(!again.lines.some((l) => /deploying the root contract/.test(l)), again.lines.join('\n'));
    const r = await new OpenAI({ baseURL: api2, apiKey: 'unused', maxRetries: 0 }).chat.completions.create({
      model: 'cocoon-demo',
      messages: [{ role: 'user', content: 'What is 2 + 3?' }],
    });
    assert.match(r.choices[0]?.message.content ?? '', /5/);
    again.child.kill('SIGINT');
    assert.equal(await again.exit, 0);
  });
});
