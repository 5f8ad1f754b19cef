import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Store } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('values keep exact bigints; a transaction commits all its writes; prefixes list in order', async () => {
  const s = Store.open(join(dir, 'a'));
  await s.transaction((tx) => {
    tx.put('client:b', { tokens: 2n ** 70n, name: 'b' });
    tx.put('client:a', { tokens: 1n });
    tx.put('worker:a', { tokens: 3n });
  });
  assert.deepEqual(s.get('client:b'), { tokens: 2n ** 70n, name: 'b' });
  assert.deepEqual(
    s.list<{ tokens: bigint }>('client:').map((e) => [e.key, e.value.tokens]),
    [
      ['client:a', 1n],
      ['client:b', 2n ** 70n],
    ],
  );
  await assert.rejects(
    s.transaction((tx) => {
      tx.put('client:c', { tokens: 9n });
      throw new Error('half way');
    }),
  );
  assert.equal(s.get('client:c'), undefined, 'nothing of a failed transaction is kept');
  await s.close();
  const again = Store.open(join(dir, 'a'));
  assert.deepEqual(again.get('worker:a'), { tokens: 3n });
  await again.close();
});

test('kill -9 right after a commit resolves loses nothing that was acknowledged', async () => {
  const path = join(dir, 'crash');
  // A child commits numbered transactions and prints each number once its commit resolved; it is killed hard.
  const code = `
    import { Store } from ${JSON.stringify(new URL('./store.ts', import.meta.url).pathname)};
    const s = Store.open(${JSON.stringify(path)});
    for (let i = 1; ; i++) {
      await s.transaction((tx) => { tx.put('counter', { n: BigInt(i) }); tx.put('k' + i, { i }); });
      process.stdout.write(i + '\\n');
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = 0;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').at(-1);
      acked = Math.max(acked, Number(last));
      if (acked >= 200) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await new Promise((r) => child.once('exit', r));
  const s = Store.open(path);
  const n = s.get<{ n: bigint }>('counter')?.n ?? 0n;
  assert.ok(n >= BigInt(acked), `the store has ${n}, ${acked} were acknowledged`);
  assert.deepEqual(s.get(`k${n}`), { i: Number(n) });
  await s.close();
});
