import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  adjustTokens,
  costsOf,
  NEUTRAL_MULTIPLIERS,
  reservationFor,
  split,
  tokensAvailable,
} from './tokens.ts';

test('adjusted tokens: cached and reasoning parts are priced separately, scaled by coefficient and multiplier', () => {
  const a = adjustTokens({ prompt: 100n, cached: 20n, completion: 50n, reasoning: 10n }, 1500, {
    prompt: 10000,
    cached: 5000,
    completion: 20000,
    reasoning: 10000,
  });
  assert.deepEqual(a, { prompt: 120n, cached: 15n, completion: 120n, reasoning: 15n, total: 270n });
  assert.deepEqual(costsOf(a, 20n), {
    prompt_total_cost: 2700n,
    completion_total_cost: 2700n,
    total_cost: 5400n,
  });
  // Counts that claim more cached than prompt tokens cannot make anything negative.
  const odd = adjustTokens(
    { prompt: 5n, cached: 9n, completion: 1n, reasoning: 7n },
    1000,
    NEUTRAL_MULTIPLIERS,
  );
  assert.deepEqual(odd, { prompt: 0n, cached: 5n, completion: 0n, reasoning: 1n, total: 6n });
});

test('exact integer arithmetic where doubles are off by one', () => {
  // trunc(n · 1.001 · 1.0001) for a large n: floating point gives the wrong last digit for this one.
  const n = 9_007_199_254_740_993n;
  const a = adjustTokens({ prompt: n, cached: 0n, completion: 0n, reasoning: 0n }, 1001, {
    ...NEUTRAL_MULTIPLIERS,
    prompt: 10001,
  });
  assert.equal(a.prompt, (n * 1001n * 10001n) / 10_000_000n);
  assert.notEqual(a.prompt, BigInt(Math.trunc(Number(n) * (1001 / 1000) * (10001 / 10000))));
});

test('property: costs add up, and neutral multipliers at coefficient 1.0 are the identity', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 12n }),
      fc.bigInt({ min: 0n, max: 10n ** 12n }),
      fc.integer({ min: 0, max: 100_000 }),
      fc.bigInt({ min: 1n, max: 10n ** 6n }),
      (prompt, completion, coef, price) => {
        const a = adjustTokens(
          { prompt, cached: prompt / 3n, completion, reasoning: completion / 4n },
          coef,
          NEUTRAL_MULTIPLIERS,
        );
        const c = costsOf(a, price);
        assert.equal(c.prompt_total_cost + c.completion_total_cost, c.total_cost);
        const id = adjustTokens({ prompt, cached: 0n, completion, reasoning: 0n }, 1000, NEUTRAL_MULTIPLIERS);
        assert.equal(id.total, prompt + completion);
        const s = split(a.total, price, price / 2n);
        assert.equal(s.worker + s.proxy, s.client);
      },
    ),
  );
});

test('client credit: limited by what was paid and by the stake beyond what was charged', () => {
  const base = { pricePerToken: 10n, reserved: 0n, usedTokens: 0n, chargedTokens: 0n };
  assert.equal(tokensAvailable({ ...base, balance: 1000n, stake: 5000n }), 100n); // paid limits
  assert.equal(tokensAvailable({ ...base, balance: 100_000n, stake: 500n }), 50n); // stake limits
  assert.equal(
    tokensAvailable({
      ...base,
      balance: 100_000n,
      stake: 500n,
      chargedTokens: 40n,
      usedTokens: 60n,
      reserved: 5n,
    }),
    25n,
  );
  assert.equal(tokensAvailable({ ...base, balance: 0n, stake: 0n, usedTokens: 10n }), 0n);
  assert.equal(reservationFor(undefined, 4000), 4000n);
  assert.equal(reservationFor(333, 1001), 334n);
});
