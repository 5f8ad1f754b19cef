// DCAP in a real browser (Debian's Chromium through playwright-core): the bundle the dashboard ships verifies the
// real TDX quotes of the fixtures against their collateral with Chromium's WebCrypto, and must reach the same
// result as node's verifier, field for field, for each (a status, or the same error code).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { AttestationError } from '../../src/errors.ts';
import { collateralFromPhalaJson, collateralToPhalaJson, quoteCrlFirst } from '../../src/tee/collateral.ts';
import { loadCollateral } from '../../src/tee/collateral-files.ts';
import { verifyTdxQuote } from '../../src/tee/dcap.ts';
import { parseTdxQuote, quoteFromFile } from '../../src/tee/quote.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const fixtures = new URL('../fixtures/tdx/', import.meta.url);
const path = (p: string) => new URL(p, fixtures).pathname;

const table = JSON.parse(readFileSync(path('fixtures.json'), 'utf8')) as {
  cases: { quote: string; collateral: string; now: string }[];
};

// The page's entry: the same modules the dashboard bundles, exposed to the test.
const ENTRY = `
import { verifyTdxQuoteWeb } from './src/tee/dcap-web.ts';
import { collateralFromPhalaJson } from './src/tee/collateral.ts';
import { fromBase64 } from './src/tee/bytes.ts';
globalThis.dcap = async (quote, collateral, now) => {
  try {
    const v = await verifyTdxQuoteWeb(fromBase64(quote), collateralFromPhalaJson(collateral), { now: new Date(now) });
    return { status: v.status, advisoryIds: v.advisoryIds, fmspc: v.fmspc, rootKeyId: v.rootKeyId,
      collateralExpiresAt: v.collateralExpiresAt.toISOString(),
      imageHash: Array.from(v.imageHash, (b) => b.toString(16).padStart(2, '0')).join('') };
  } catch (err) {
    return { code: err.code, message: err.message };
  }
};
`;

function nodeResult(quote: Uint8Array, collateral: string, now: string): Record<string, unknown> {
  try {
    const v = verifyTdxQuote(quote, collateralFromPhalaJson(collateral), { now: new Date(now) });
    return {
      status: v.status,
      advisoryIds: v.advisoryIds,
      fmspc: v.fmspc,
      rootKeyId: v.rootKeyId,
      collateralExpiresAt: v.collateralExpiresAt.toISOString(),
      imageHash: Buffer.from(v.imageHash).toString('hex'),
    };
  } catch (err) {
    if (!(err instanceof AttestationError)) throw err;
    return { code: err.code, message: err.message };
  }
}

test('the browser bundle runs DCAP on the real fixtures in Chromium, agreeing with node on each', async () => {
  const out = await build({
    stdin: { contents: ENTRY, resolveDir: new URL('../../', import.meta.url).pathname, loader: 'ts' },
    bundle: true,
    format: 'iife',
    write: false,
    target: 'es2022',
    platform: 'browser',
    logLevel: 'silent',
  });
  const js = out.outputFiles[0]?.text ?? '';
  // A loopback page: WebCrypto needs a secure context, and http://127.0.0.1 is one.
  const server = createServer((req, res) => {
    if (req.url === '/dcap.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<script src="/dcap.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction('typeof globalThis.dcap === "function"');
    let verified = 0;
    for (const c of table.cases) {
      const quote = quoteFromFile(new Uint8Array(readFileSync(path(c.quote))));
      const dir = c.collateral.startsWith('zkdcap/') ? path('zkdcap') : path(c.collateral);
      const parsed = parseTdxQuote(quote);
      const collateral = collateralToPhalaJson(quoteCrlFirst(loadCollateral([dir], parsed), parsed));
      const expected = nodeResult(quote, collateral, c.now);
      const inBrowser = await page.evaluate(
        ([q, col, now]) =>
          (globalThis as unknown as { dcap: (q: string, c: string, n: string) => Promise<unknown> }).dcap(
            q,
            col,
            now,
          ),
        [Buffer.from(quote).toString('base64'), collateral, c.now] as const,
      );
      assert.deepEqual(inBrowser, expected, c.quote);
      if ('status' in expected) verified++;
    }
    assert.ok(verified >= 5, `${verified} fixtures verified`);
  } finally {
    await browser.close();
    server.close();
  }
});
