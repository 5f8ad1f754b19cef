// The client keeps the newest receipts only: with a limit, older ones leave the store as new ones come, and the
// listing reads the newest from the end of the store.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalNetwork } from '../src/node/network.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { startTestEngine } from './support/openai-server.ts';

test('a client keeps its newest receipts up to its limit and drops the oldest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-receipts-'));
  const engine = await startTestEngine();
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    powDifficulty: 4,
    nodeStoreDir: dir,
    keepReceipts: 4,
  });
  try {
    for (let i = 0; i < 13; i++) {
      const r = await fetch(`${net.apiUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: `echo:${i}` }] }),
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-cocoon-receipt-verified'), 'yes');
      await r.text();
    }
    const newest = net.client.receipts.at(-1)?.bytes.toString('base64');
    // Receipts are written after the answer: wait until the last one is in the store.
    const deadline = Date.now() + 5000;
    while (!net.client.listReceipts(1).some((r) => r.receipt === newest) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const kept = net.client.listReceipts(100);
    // Pruned every 4 receipts down to 4: after 13, the 4 kept at the 12th and the 13th (or 4, when the 12th's
    // and the 13th's commits landed together before that pruning counted).
    assert.ok(kept.length === 4 || kept.length === 5, `${kept.length} kept`);
    assert.equal(kept.at(-1)?.receipt, newest);
    const all = net.client.receipts.slice(-kept.length).map((r) => r.bytes.toString('base64'));
    assert.deepEqual(
      kept.map((r) => r.receipt),
      all,
      'the kept ones are the newest, oldest first',
    );
    assert.deepEqual(
      net.client.listReceipts(2).map((r) => r.key),
      kept.slice(-2).map((r) => r.key),
    );
  } finally {
    await net.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
