// The dashboard in a real browser (Debian's Chromium through playwright-core): the page loads from a node, shows
// the worker, sends a chat message through the client and shows the streamed answer, verifies its receipt and
// privacy label in the page; a screenshot is taken and must not be blank. On a network of TDX-format quotes (a
// test PKI) the page also runs DCAP of the worker's quote itself.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { type LocalNetwork, startLocalNetwork } from '../../src/node/network.ts';
import { HttpEngine } from '../../src/openai/engine.ts';
import { createFakeIntel } from '../../src/tee/fake-intel.ts';
import { fakeIntelAttestation } from '../support/fake-intel-net.ts';
import { startTestEngine } from '../support/openai-server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Opens the client's dashboard in Chromium and runs `fn` on it; the page must raise no error. */
async function withDashboard(net: LocalNetwork, fn: (page: Page) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${net.apiUrl.replace(/\/v1$/, '')}/?access_token=dash`);
    await fn(page);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
}

test('the dashboard shows the network and chats through the client, in Chromium', async () => {
  const engine = await startTestEngine();
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    powDifficulty: 4,
    accessToken: 'dash',
    ports: { proxyStats: 0, workerStats: 0 },
    contracts: true, // signed charges and payouts, so the money columns fill in
  });
  try {
    await withDashboard(net, async (page) => {
      await page.locator('#workers table').waitFor({ timeout: 15_000 });
      assert.match((await page.locator('#workers').textContent()) ?? '', /ok/);
      assert.match((await page.locator('#workers').textContent()) ?? '', /enabled/);
      assert.match((await page.locator('#network').textContent()) ?? '', /price per token/);
      await page.locator('#chat-model option').first().waitFor({ state: 'attached' });
      await page.fill('#chat-input', 'What is the capital of France?');
      await page.click('#chat-form button');
      await page
        .locator('#chat-log .a', { hasText: 'The capital of France is Paris.' })
        .waitFor({ timeout: 15_000 });
      await page.locator('#rate-chart canvas').waitFor({ state: 'attached' });
      // The answer's receipt and privacy label, verified in the browser with WebCrypto.
      await page.click('#chat-log .verify-button');
      const verdict = page.locator('#chat-log .verify', { hasText: 'privacy label' });
      await verdict.waitFor({ timeout: 10_000 });
      const text = (await verdict.textContent()) ?? '';
      assert.match(text, /✓ receipt verified in this browser: signed by worker .* \(fake_tdx, image 5c55c8/);
      assert.match(
        text,
        /sealed end to end: only the worker enclave saw it; model ok; 18 tokens counted, 18 charged/,
      );
      assert.match(text, /✓ privacy label signed by this client: e2e=1, plaintext seen by worker/);
      // Once the answer is billed, the client's charge and the worker's earnings show it (18 tokens).
      await page.locator('#clients', { hasText: '18 tokens' }).waitFor({ timeout: 10_000 });
      await page.locator('#workers', { hasText: '18 tokens' }).waitFor({ timeout: 10_000 });
      const png = await page.screenshot({ fullPage: true });
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/dashboard.png', png);
      // A blank page compresses to a few kilobytes; a page with tables, charts and text does not.
      assert.ok(png.length > 30_000, `screenshot of ${png.length} bytes: blank?`);
    });
  } finally {
    await net.close();
    await engine.close();
  }
});

test('on a TDX network the page runs DCAP of the answering worker itself, in Chromium', async () => {
  const engine = await startTestEngine();
  const fake = await createFakeIntel();
  const attestation = fakeIntelAttestation(fake);
  const image = attestation.images[0] as string;
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    attestation,
    powDifficulty: 4,
    accessToken: 'dash',
    ports: { proxyStats: 0, workerStats: 0 },
    clientFunds: () => ({ balance: 10n ** 15n, stake: 10n ** 15n }),
  });
  try {
    await withDashboard(net, async (page) => {
      await page.locator('#chat-model option').first().waitFor({ state: 'attached', timeout: 15_000 });
      await page.fill('#chat-input', 'What is the capital of France?');
      await page.click('#chat-form button');
      await page.locator('#chat-log .verify-button').waitFor({ timeout: 15_000 });
      await page.click('#chat-log .verify-button');
      const verdict = page.locator('#chat-log .verify', { hasText: 'privacy label' });
      await verdict.waitFor({ timeout: 10_000 });
      const text = (await verdict.textContent()) ?? '';
      assert.match(
        text,
        new RegExp(
          `✓ receipt verified in this browser: signed by worker .* \\(tdx, image ${image.slice(0, 6)}`,
        ),
      );
      assert.match(
        text,
        /✓ DCAP in this browser: the worker's TDX quote chains to a test root the client named \(NOT Intel: a test network\); TCB UpToDate/,
      );
    });
  } finally {
    await net.close();
    await engine.close();
  }
});
