import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttestationCache } from './attestation-cache.ts';
import type { VerifiedQuote } from './types.ts';

function entry(expires: string): VerifiedQuote {
  return { collateralExpiresAt: new Date(expires) } as VerifiedQuote;
}

test('forgets a verified quote once its collateral expires', () => {
  const c = new AttestationCache();
  const q = new Uint8Array([1, 2, 3]);
  c.set(q, 'intel', entry('2026-03-01T00:00:00Z'));
  assert.ok(c.get(q, 'intel', new Date('2026-02-28T00:00:00Z')));
  assert.equal(c.get(q, 'intel', new Date('2026-03-02T00:00:00Z')), undefined);
  assert.equal(c.size, 0);
});

test('keys entries by trust anchor as well as quote', () => {
  const c = new AttestationCache();
  const q = new Uint8Array([9]);
  c.set(q, 'fake-root', entry('2030-01-01T00:00:00Z'));
  assert.equal(c.get(q, 'intel', new Date('2026-01-01T00:00:00Z')), undefined);
});

test('evicts the least recently used entry beyond its capacity', () => {
  const c = new AttestationCache(2);
  const now = new Date('2026-01-01T00:00:00Z');
  const [a, b, d] = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])];
  c.set(a, 'x', entry('2030-01-01T00:00:00Z'));
  c.set(b, 'x', entry('2030-01-01T00:00:00Z'));
  assert.ok(c.get(a, 'x', now)); // a is now the most recent
  c.set(d, 'x', entry('2030-01-01T00:00:00Z'));
  assert.equal(c.size, 2);
  assert.equal(c.get(b, 'x', now), undefined);
  assert.ok(c.get(a, 'x', now));
  assert.ok(c.get(d, 'x', now));
});
