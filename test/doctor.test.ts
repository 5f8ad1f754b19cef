import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Devnet } from '../src/chain/devnet.ts';
import { startTestEngine } from './support/openai-server.ts';

const bin = new URL('../bin/cocoon.js', import.meta.url).pathname;

function doctor(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [bin, 'doctor', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

type Report = { ok: boolean; checks: { name: string; level: string; detail: string; fix?: string }[] };

test('cocoon doctor: a reachable engine and chain pass; a dead engine fails with what to do', async () => {
  const engine = await startTestEngine();
  const devnet = await Devnet.open({});
  const endpoint = await devnet.listen(0);
  try {
    const good = await doctor(['--backend', engine.url, '--endpoint', endpoint]);
    const r = JSON.parse(good.out) as Report;
    assert.equal(good.code, 0, good.out);
    assert.equal(r.ok, true);
    const by = new Map(r.checks.map((c) => [c.name, c]));
    assert.equal(by.get('engine')?.level, 'ok');
    assert.match(by.get('engine')?.detail ?? '', /test-model/);
    assert.equal(by.get('chain')?.level, 'ok');
    assert.equal(by.get('clock')?.level, 'ok');
    await engine.close();
    const bad = await doctor(['--backend', engine.url, '--endpoint', endpoint]);
    const rb = JSON.parse(bad.out) as Report;
    assert.equal(bad.code, 1);
    const e = rb.checks.find((c) => c.name === 'engine');
    assert.equal(e?.level, 'fail');
    assert.match(e?.fix ?? '', /start the engine/);
  } finally {
    await engine.close().catch(() => {});
    await devnet.close();
  }
});
