import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EMBEDDED_MODEL_PATH, parseHfSpec, resolveModel } from './models.ts';

/** A Hugging Face–like file host on loopback: Range requests, X-Linked-Etag = SHA-256, optional cut-offs. */
async function fileHost(files: Record<string, Buffer>, opts: { cutFirstAt?: number; noEtag?: boolean } = {}) {
  const log: { url: string; range?: string }[] = [];
  let cut = opts.cutFirstAt;
  const server = createServer((req, res) => {
    const entry: { url: string; range?: string } = { url: req.url ?? '' };
    if (req.headers.range) entry.range = req.headers.range;
    log.push(entry);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    const data = m ? files[`${m[1]}/${decodeURIComponent(m[3] as string)}`] : undefined;
    if (!data) {
      res.writeHead(404);
      res.end();
      return;
    }
    const headers: Record<string, string> = {};
    if (!opts.noEtag) headers['x-linked-etag'] = `"${createHash('sha256').update(data).digest('hex')}"`;
    let start = 0;
    const r = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (r) {
      start = Number(r[1]);
      if (start >= data.length) {
        res.writeHead(416, headers);
        res.end();
        return;
      }
      res.writeHead(206, {
        ...headers,
        'content-length': String(data.length - start),
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      });
    } else res.writeHead(200, { ...headers, 'content-length': String(data.length) });
    const body = data.subarray(start);
    if (cut !== undefined) {
      const at = cut;
      cut = undefined;
      res.write(body.subarray(0, at), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('model resolution and download', () => {
  test('parses hf: specs with revision and checksum', () => {
    assert.deepEqual(parseHfSpec('hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf'), {
      repo: 'Qwen/Qwen3-0.6B-GGUF',
      file: 'Qwen3-0.6B-Q8_0.gguf',
      revision: 'main',
    });
    const sha = 'ab'.repeat(32);
    assert.deepEqual(parseHfSpec(`hf:o/r/sub/m.gguf@v1#sha256=${sha}`), {
      repo: 'o/r',
      file: 'sub/m.gguf',
      revision: 'v1',
      sha256: sha,
    });
    assert.throws(() => parseHfSpec('hf:nope'), { code: 'MODEL_SPEC' });
  });

  test('embedded and local paths resolve without any download', async () => {
    const e = await resolveModel('embedded');
    assert.equal(e.path, EMBEDDED_MODEL_PATH);
    assert.equal(e.source, 'embedded');
    await assert.rejects(resolveModel('/no/such/model.gguf'), { code: 'MODEL_MISSING' });
  });

  test('downloads once into the cache, resumes after a cut-off, and checks SHA-256', async (t) => {
    const data = randomBytes(300_000);
    const host = await fileHost({ 'owner/repo/m.gguf': data }, { cutFirstAt: 100_000 });
    t.after(() => host.close());
    const cache = mkdtempSync(join(tmpdir(), 'cocoon-models-'));
    t.after(() => rmSync(cache, { recursive: true, force: true }));
    const progress: number[] = [];
    const opts = { cacheDir: cache, endpoint: host.endpoint, onProgress: (d: number) => progress.push(d) };

    await assert.rejects(resolveModel('hf:owner/repo/m.gguf', opts), { code: 'MODEL_DOWNLOAD' });
    const part = join(cache, 'hf', 'owner/repo', 'main', 'm.gguf.part');
    assert.ok(existsSync(part), 'the partial download is kept');
    const m = await resolveModel('hf:owner/repo/m.gguf', opts);
    assert.match(host.log.at(-1)?.range ?? '', /^bytes=[1-9]\d*-$/, 'the second request resumes');
    assert.deepEqual(readFileSync(m.path), data);
    assert.equal(m.sha256, createHash('sha256').update(data).digest('hex'));
    assert.ok(progress.at(-1) === data.length);

    const requests = host.log.length;
    const again = await resolveModel('hf:owner/repo/m.gguf', opts);
    assert.equal(again.path, m.path);
    assert.equal(host.log.length, requests, 'a cached model is not fetched again');
  });

  test('a checksum mismatch removes the download', async (t) => {
    const host = await fileHost({ 'o/r/x.gguf': Buffer.from('not a model') }, { noEtag: true });
    t.after(() => host.close());
    const cache = mkdtempSync(join(tmpdir(), 'cocoon-models-'));
    t.after(() => rmSync(cache, { recursive: true, force: true }));
    const opts = { cacheDir: cache, endpoint: host.endpoint, onProgress: () => {} };
    await assert.rejects(resolveModel(`hf:o/r/x.gguf#sha256=${'00'.repeat(32)}`, opts), {
      code: 'MODEL_CHECKSUM',
    });
    assert.equal(existsSync(join(cache, 'hf', 'o/r', 'main', 'x.gguf.part')), false);
    await assert.rejects(resolveModel('hf:o/r/missing.gguf', opts), { code: 'MODEL_DOWNLOAD' });
    // Without a published checksum the file is still hashed and recorded.
    const ok = await resolveModel('hf:o/r/x.gguf', opts);
    assert.equal(
      readFileSync(`${ok.path}.sha256`, 'utf8').trim(),
      createHash('sha256').update('not a model').digest('hex'),
    );
  });
});
