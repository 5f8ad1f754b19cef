import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { collateralFromPhalaJson } from '../src/tee/collateral.ts';
import { verifyTdxQuote } from '../src/tee/dcap.ts';
import { parseTdxQuote } from '../src/tee/quote.ts';

const fixtures = new URL('../test/fixtures/tdx/', import.meta.url);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Full DCAP verification (parse + chain + CRLs + signatures + TCB evaluation, no cache) of the reference's own
 * quote against its recorded collateral, and the same work by @phala/dcap-qvl in the same run as a baseline.
 */
export async function benchVerify(opts: { quick: boolean }): Promise<{
  verify_median_ms: number;
  verify_p99_ms: number;
  runs: number;
  phala_median_ms: number;
}> {
  const quoteBytes = new Uint8Array(readFileSync(new URL('cocoon/quote.dat', fixtures)));
  const collateralText = readFileSync(
    new URL('phala-dcap-qvl/tdx_quote_outdated_collateral.json', fixtures),
    'utf8',
  );
  const now = new Date('2026-02-19T00:00:00Z');
  const runs = opts.quick ? 50 : 500;
  const times: number[] = [];
  for (let i = 0; i < runs + 20; i++) {
    const t0 = performance.now();
    // Parsing the quote and the collateral is part of the work a verifier does per quote.
    const v = verifyTdxQuote(parseTdxQuote(quoteBytes), collateralFromPhalaJson(collateralText), { now });
    const t1 = performance.now();
    if (v.status !== 'UpToDate') throw new Error(`benchmark quote verified as ${v.status}`);
    if (i >= 20) times.push(t1 - t0);
  }
  times.sort((a, b) => a - b);

  // Baseline: @phala/dcap-qvl (a devDependency) on the same quote and collateral.
  const require = createRequire(import.meta.url);
  const phala = require('@phala/dcap-qvl') as {
    verify(quote: Uint8Array, collateral: unknown, nowSecs: number): unknown;
  };
  const collateral = JSON.parse(collateralText) as Record<string, unknown>;
  const phalaRuns = opts.quick ? 10 : 50;
  const phalaTimes: number[] = [];
  for (let i = 0; i < phalaRuns + 3; i++) {
    const t0 = performance.now();
    phala.verify(quoteBytes, collateral, Math.floor(now.getTime() / 1000));
    if (i >= 3) phalaTimes.push(performance.now() - t0);
  }
  return {
    verify_median_ms: round(median(times)),
    verify_p99_ms: round(times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!),
    runs,
    phala_median_ms: round(median(phalaTimes)),
  };
}
