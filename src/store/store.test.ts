import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
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

test('a prefix counts, lists its last entries from the end and its first keys, and no neighbour leaks in', async () => {
  const s = Store.open(join(dir, 'prefix'));
  await s.transaction((tx) => {
    for (let i = 0; i < 50; i++) tx.put(`receipt:${String(i).padStart(4, '0')}`, { i });
    tx.put('receipt', { neighbour: 'the bare prefix' });
    tx.put('receiptz:0', { neighbour: 'after' });
    tx.put('recei:9', { neighbour: 'before' });
  });
  assert.equal(s.count('receipt:'), 50);
  assert.deepEqual(
    s.list<{ i: number }>('receipt:', { last: 3 }).map((e) => e.value.i),
    [47, 48, 49],
  );
  assert.equal(s.list('receipt:', { last: 100 }).length, 50);
  assert.deepEqual(s.keys('receipt:', 2), ['receipt:0000', 'receipt:0001']);
  assert.equal(s.count('nothing:'), 0);
  assert.deepEqual(s.list('nothing:', { last: 5 }), []);
  await s.close();
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

test('a full disk: the commit fails with STORE_WRITE and the reason, nothing of it lands, and with space back writes work again', async (t) => {
  const disk = join(dir, 'tiny');
  mkdirSync(disk);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { encoding: 'utf8' });
  if (m.status !== 0) return t.skip(`cannot mount a tmpfs here: ${m.stderr.trim()}`);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const store = Store.open(join(disk, 'db'));
    await store.transaction((tx) => tx.put('a', { n: 1n }));
    const fd = openSync(join(disk, 'filler'), 'w');
    for (const size of [64 * 1024, 4096, 1]) {
      try {
        for (;;) writeSync(fd, Buffer.alloc(size));
      } catch {}
    }
    closeSync(fd);
    await assert.rejects(
      store.transaction((tx) => {
        tx.put('a', { n: 2n });
        tx.put('b', 'x'.repeat(20_000));
      }),
      (err: Error & { code?: string }) =>
        err.code === 'STORE_WRITE' && /No space left on device/.test(err.message),
    );
    assert.deepEqual(store.get('a'), { n: 1n }, 'the failed transaction left nothing');
    assert.equal(store.get('b'), undefined);
    rmSync(join(disk, 'filler'));
    await store.transaction((tx) => tx.put('a', { n: 3n }));
    await store.close();
    const again = Store.open(join(disk, 'db'));
    assert.deepEqual(again.get('a'), { n: 3n });
    await again.close();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, [], 'no promise of the failed commit went unobserved');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    spawnSync('umount', ['-l', disk]);
  }
});
