import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TSM_ROOT, tdxQuoteSource } from './configfs-tsm.ts';

test('a machine without configfs-tsm gets TDX_UNAVAILABLE, not a crash', async (t) => {
  if (existsSync(DEFAULT_TSM_ROOT)) return t.skip('this machine has configfs-tsm');
  await assert.rejects(tdxQuoteSource().getQuote(new Uint8Array(64)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TDX_UNAVAILABLE');
    assert.match(err.message, /configfs-tsm/);
    return true;
  });
});

test('a report directory whose provider is not tdx_guest is refused, and the entry removed', async (t) => {
  // An ordinary directory stands in for configfs: mkdir works, but no provider file appears in the entry.
  const root = mkdtempSync(join(tmpdir(), 'cocoon-tsm-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await assert.rejects(tdxQuoteSource({ root }).getQuote(new Uint8Array(64)), { code: 'TDX_UNAVAILABLE' });
  assert.deepEqual(readdirSync(root), []);
});

test('REPORTDATA must be 64 bytes', async () => {
  await assert.rejects(tdxQuoteSource({ root: '/nonexistent' }).getQuote(new Uint8Array(32)), RangeError);
});

test('a root that is a file is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-tsm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'report'), '');
  await assert.rejects(tdxQuoteSource({ root: join(dir, 'report') }).getQuote(new Uint8Array(64)), {
    code: 'TDX_UNAVAILABLE',
  });
});
