import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Connection } from '../src/net/connection.ts';
import { IdentityHolder, ratlsConnect } from '../src/net/ratls.ts';
import { createRatlsIdentity } from '../src/tee/cert.ts';
import { imageHash } from '../src/tee/dcap.ts';
import { createFakeIntel, saveFakeIntel } from '../src/tee/fake-intel.ts';
import { AttestationVerifier } from '../src/tee/policy.ts';
import { parseTdxQuote } from '../src/tee/quote.ts';
import { fakeIntelSource } from '../src/tee/quote-source.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test("two processes attest each other over RA-TLS under policy 'tdx' and refuse an image not allowed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = await createFakeIntel();
  await saveFakeIntel(fake, dir);

  const good = new IdentityHolder(
    await createRatlsIdentity({ quoteSource: fakeIntelSource(fake, { mrTd: new Uint8Array(48).fill(1) }) }),
  );
  const bad = new IdentityHolder(
    await createRatlsIdentity({ quoteSource: fakeIntelSource(fake, { mrTd: new Uint8Array(48).fill(2) }) }),
  );
  const goodImage = hex(imageHash(parseTdxQuote(good.identity.quote!).body));
  const serverMrTd = '07'.repeat(48);

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./support/ratls-peer.ts', import.meta.url).pathname,
      dir,
      goodImage,
      serverMrTd,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  t.after(() => child.kill());
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    events.push(JSON.parse(l));
    for (const w of waiters.splice(0)) w();
  });
  const next = async (event: string) => {
    for (;;) {
      const e = events.find((x) => x.event === event);
      if (e) {
        events.splice(events.indexOf(e), 1);
        return e;
      }
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const { port } = (await next('listening')) as { port: number };

  // This process pins the same fake root (loaded independently) and allows only the server's image.
  const serverImage = hex(
    imageHash({
      ...parseTdxQuote(good.identity.quote!).body,
      mrTd: new Uint8Array(Buffer.from(serverMrTd, 'hex')),
    }),
  );
  const verifier = new AttestationVerifier({
    kind: 'tdx',
    trustedRootDer: fake.rootDer,
    collateral: () => fake.collateral,
    allowedImageHashes: [serverImage],
  });
  const { socket, peer } = await ratlsConnect({ host: '127.0.0.1', port, identity: good, verifier });
  assert.equal(peer.imageHash, serverImage);
  assert.equal(peer.status, 'UpToDate');
  const conn = new Connection(socket, { role: 'dialer' });
  await conn.ready();
  assert.equal(Buffer.from(await conn.query(Buffer.from('hi'))).toString(), 'echo:hi');
  assert.deepEqual(await next('accepted'), { event: 'accepted', image: goodImage, status: 'UpToDate' });
  conn.close();

  const refused = await ratlsConnect({ host: '127.0.0.1', port, identity: bad, verifier });
  const conn2 = new Connection(refused.socket, { role: 'dialer', handshakeTimeoutMs: 10_000 });
  await assert.rejects(conn2.ready());
  assert.deepEqual(await next('rejected'), { event: 'rejected', code: 'IMAGE_NOT_ALLOWED' });
  child.stdin!.end();
});
