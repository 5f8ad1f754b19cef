import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

const bin = new URL('../../bin/cocoon.js', import.meta.url).pathname;

function cocoon(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cocoon command', () => {
  test('prints help listing its commands', () => {
    const r = cocoon(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['up', 'version', 'tl', 'attest', 'bench'])
      assert.match(r.out, new RegExp(`^  ${c} `, 'm'));
  });

  test('prints its version', () => {
    const r = cocoon(['version', '--json']);
    assert.equal(r.code, 0);
    assert.match(JSON.parse(r.out).version, /^\d+\.\d+\.\d+/);
  });

  test('refuses an unknown command with exit code 2', () => {
    const r = cocoon(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command 'frobnicate'/);
  });

  test('tl encode prints hex and tl decode prints the JSON form back', () => {
    const enc = cocoon(['tl', 'encode', '{"_":"tcp.ping","id":"5"}']);
    assert.equal(enc.code, 0, enc.err);
    assert.equal(enc.out.trim(), '7c62e9bb0500000000000000');
    const dec = cocoon(['tl', 'decode', '7c62e9bb0500000000000000']);
    assert.equal(dec.code, 0, dec.err);
    assert.deepEqual(JSON.parse(dec.out), { _: 'tcp.ping', id: '5' });
  });

  test('tl round-trips a nested object with flags, base64 and bare fields through stdin', () => {
    const json = {
      _: 'client.queryAnswerEx',
      request_id: Buffer.alloc(32, 7).toString('base64'),
      answer: 'aGVsbG8=',
      flags: 1,
      final_info: {
        flags: 0,
        tokens_used: {
          prompt_tokens_used: '10',
          cached_tokens_used: '0',
          completion_tokens_used: '20',
          reasoning_tokens_used: '0',
          total_tokens_used: '30',
        },
      },
    };
    const enc = cocoon(['tl', 'encode', '-'], JSON.stringify(json));
    assert.equal(enc.code, 0, enc.err);
    const dec = cocoon(['tl', 'decode', enc.out.trim()]);
    assert.equal(dec.code, 0, dec.err);
    const out = JSON.parse(dec.out);
    assert.equal(out.final_info._, 'client.queryFinalInfo');
    assert.equal(out.final_info.tokens_used._, 'tokensUsed');
    assert.equal(out.answer, 'aGVsbG8=');
    assert.equal(out.final_info.tokens_used.total_tokens_used, '30');
  });

  test('tl decode of bad input exits 1 with the TL error code', () => {
    const r = cocoon(['tl', 'decode', '7c62e9bb05']);
    assert.equal(r.code, 1);
    assert.match(r.err, /TL_TRUNCATED/);
    const u = cocoon(['tl', 'decode', 'deadbeef']);
    assert.match(u.err, /TL_UNKNOWN_CONSTRUCTOR/);
    const j = cocoon(['tl', 'encode', '{"_":"tcp.ping"}']);
    assert.equal(j.code, 1);
    assert.match(j.err, /TL_BAD_JSON: id: missing/);
  });

  test('tl encodes and decodes a bare type with --type', () => {
    const enc = cocoon(['tl', 'encode', '--type', 'http.header', '{"name":"a","value":"b"}']);
    assert.equal(enc.out.trim(), '01610000' + '01620000');
    const dec = cocoon(['tl', 'decode', '--type', 'http.header', '0161000001620000']);
    assert.deepEqual(JSON.parse(dec.out), { _: 'http.header', name: 'a', value: 'b' });
  });

  test('tl schema lists every declaration with its id', () => {
    const r = cocoon(['tl', 'schema', '--json']);
    const rows = JSON.parse(r.out) as { name: string; id: string }[];
    assert.equal(rows.length, 122);
    assert.equal(rows.find((x) => x.name === 'ext.sealedQuery')?.id !== undefined, true);
    assert.equal(rows.find((x) => x.name === 'client.runQueryEx')?.id, 'f54cb74b');
  });
});
