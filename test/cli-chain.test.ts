import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

const bin = new URL('../bin/cocoon.js', import.meta.url).pathname;

test('cocoon wallet and cocoon root drive a devnet from the command line', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'cocoon-cli-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const devnet = spawn(process.execPath, [bin, 'devnet', '--port', '0', '--memory'], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => devnet.kill('SIGKILL'));
  const endpoint = await new Promise<string>((resolve) => {
    createInterface({ input: devnet.stdout }).on('line', (l) => {
      const m = /devnet: (\S+)/.exec(l);
      if (m) resolve(m[1] as string);
    });
  });
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args, '--endpoint', endpoint], {
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = (...args: string[]) => JSON.parse(run(...args, '--json')) as Record<string, unknown>;

  const w = json('wallet', 'new');
  assert.equal(statSync(join(cwd, '.cocoon', 'wallet.json')).mode & 0o777, 0o600);
  assert.match(String(w.address), /^0Q/);
  assert.equal(json('wallet', 'fund', '50').balance, '50000000000');
  const root = json('root', 'deploy', '--unique-id', '9', '--price', '30', '--worker-fee', '20');
  run('root', 'add-hash', 'worker', 'ab'.repeat(32));
  run('root', 'add-hash', 'model', 'Qwen/Qwen3-0.6B@abc:def');
  run('root', 'register-proxy', '127.0.0.1:11001', '127.0.0.1:11002');
  run('root', 'set-params', '--client-delay', '600', '--min-client-stake', '2.5');
  const shown = json('root', 'show');
  assert.equal(shown.address, root.address);
  assert.equal(shown.version, 4);
  assert.deepEqual(shown.worker_hashes, ['ab'.repeat(32)]);
  assert.equal((shown.model_hashes as string[]).length, 1);
  assert.deepEqual(shown.proxies, { 1: { workers: '127.0.0.1:11001', clients: '127.0.0.1:11002' } });
  const params = shown.params as Record<string, unknown>;
  assert.deepEqual(
    [
      params.uniqueId,
      params.pricePerToken,
      params.workerFeePerToken,
      params.clientDelayBeforeClose,
      params.minClientStake,
    ],
    [9, '30', '20', 600, '2500000000'],
  );

  const dest = `0:${'cd'.repeat(32)}`;
  run('wallet', 'send', dest, '1.25');
  assert.equal(json('wallet', 'balance', dest).balance, '1250000000');
  const bad = spawnSync(
    process.execPath,
    [bin, 'root', 'add-hash', 'worker', 'xyz', '--endpoint', endpoint],
    { cwd, encoding: 'utf8' },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /BAD_HASH/);
});

test('cocoon bench contracts --json prints gas and fees per operation', () => {
  const r = spawnSync(process.execPath, [bin, 'bench', 'contracts', '--json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout) as Record<string, { gas: number; fee_nano: string }>;
  for (const k of ['root_add_worker_hash', 'root_register_proxy', 'wallet_batch_1', 'wallet_batch_4']) {
    assert.ok(o[k] && o[k].gas > 0 && BigInt(o[k].fee_nano) > 0n, k);
  }
  // One signature check is most of a one-message batch: well under 0.01 TON in fees.
  assert.ok(BigInt(o.wallet_batch_1!.fee_nano) < 10_000_000n);
});
