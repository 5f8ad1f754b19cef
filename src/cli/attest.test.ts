import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const bin = new URL('../../bin/cocoon.js', import.meta.url).pathname;
const fx = (p: string) => new URL(`../../test/fixtures/tdx/${p}`, import.meta.url).pathname;

function cocoon(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cocoon attest', () => {
  test('verify: an UpToDate quote prints its measurements and exits 0', () => {
    const r = cocoon([
      'attest',
      'verify',
      fx('cocoon/quote.dat'),
      '--collateral',
      fx('phala-dcap-qvl/tdx_quote_outdated_collateral.json'),
      '--now',
      '2026-02-19T00:00:00Z',
    ]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(
      r.out,
      /^mrtd +7357a10d2e2724dffe68813e3cc4cfcde6814d749f2fb62e3953e54f6e0b50a219786afe2cd478f684b52c61837e1114$/m,
    );
    assert.match(r.out, /^rtmr0 +251a7f3c/m);
    assert.match(r.out, /^image_hash +[0-9a-f]{64}$/m);
    assert.match(r.out, /^status +UpToDate$/m);
    assert.match(r.out, /^result +OK/m);
  });

  test('verify --json: a folder of Intel documents, OutOfDate refused by default, accepted with --accept', () => {
    const args = ['attest', 'verify', fx('zkdcap/quote_tdx_00806f050000.dat'), '--collateral', fx('zkdcap')];
    const r = cocoon([...args, '--now', '2025-02-01T00:00:00Z', '--json']);
    assert.equal(r.code, 1);
    const o = JSON.parse(r.out) as Record<string, unknown>;
    assert.equal(o.status, 'OutOfDate');
    assert.equal(o.code, 'TCB_STATUS_NOT_ALLOWED');
    assert.deepEqual(o.advisories, ['INTEL-SA-00960', 'INTEL-SA-00982', 'INTEL-SA-00986']);
    const ok = cocoon([...args, '--now', '2025-02-01T00:00:00Z', '--json', '--accept', 'UpToDate,OutOfDate']);
    assert.equal(ok.code, 0, ok.out);
    assert.equal(JSON.parse(ok.out).ok, true);
  });

  test('verify: expired collateral, a hex quote, combined collateral sources', () => {
    const expired = cocoon([
      'attest',
      'verify',
      fx('cocoon/quote.dat'),
      '--collateral',
      fx('phala-dcap-qvl/tdx_quote_outdated_collateral.json'),
      '--now',
      '2026-11-24T00:00:00Z',
    ]);
    assert.equal(expired.code, 1);
    assert.match(expired.out, /^result +REFUSED COLLATERAL_EXPIRED/m);
    const hex = cocoon([
      'attest',
      'verify',
      fx('phala-dcap-qvl/tdx-quote.hex'),
      '--collateral',
      fx('phala-dcap-qvl/tdx_quote_collateral.json'),
      '--now',
      '2025-06-20T00:00:00Z',
      '--json',
    ]);
    assert.equal(hex.code, 1);
    assert.equal(JSON.parse(hex.out).code, 'TCB_NOT_SUPPORTED');
    const combined = cocoon([
      'attest',
      'verify',
      fx('go-tdx-guest/quote_v5_sample.dat'),
      '--collateral',
      fx('phala-dcap-qvl/tdx_quote_outdated_collateral.json'),
      '--collateral',
      fx('go-tdx-guest/sample_tcbinfo_response_v5'),
      '--now',
      '2026-02-19T00:00:00Z',
      '--json',
    ]);
    assert.equal(combined.code, 0, combined.out);
    assert.equal(JSON.parse(combined.out).collateral_expires, '2026-03-03T14:49:26.000Z');
  });

  test('verify without collateral prints usage and exits 2', () => {
    const r = cocoon(['attest', 'verify', fx('cocoon/quote.dat')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /cocoon attest verify QUOTE/);
  });

  test('fake-cert writes a key and certificate that inspect reads back; fake-Intel quotes verify with --root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cocoon-cert-'));
    try {
      const made = cocoon(['attest', 'fake-cert', '--out', join(dir, 'a')]);
      assert.equal(made.code, 0, made.err);
      const seen = cocoon(['attest', 'inspect', join(dir, 'a', 'cert.pem'), '--json']);
      assert.equal(seen.code, 0, seen.err);
      const info = JSON.parse(seen.out) as Record<string, unknown>;
      assert.match(String(info.quote), /^fake_tdx/);
      assert.equal(info.reportdata_binds_key, true);
      assert.equal(info.image_hash, '5c55c8f4db4010ba9203d83536d0609856af8c847ac039e37e7dde8fbd574b61');

      const pki = join(dir, 'pki');
      const mrtd = 'ab'.repeat(48);
      const intel = cocoon([
        'attest',
        'fake-cert',
        '--out',
        join(dir, 'b'),
        '--fake-intel',
        pki,
        '--mrtd',
        mrtd,
      ]);
      assert.equal(intel.code, 0, intel.err);
      const b = JSON.parse(cocoon(['attest', 'inspect', join(dir, 'b', 'cert.pem'), '--json']).out);
      assert.equal(b.mrtd, mrtd);
      assert.equal(b.reportdata_binds_key, true);
      assert.match(readFileSync(join(pki, 'README'), 'utf8'), /never trust it in production/);
      // Its quote is real-format: it verifies against the fake root only when that root is pinned.
      const q = join(dir, 'b.quote');
      assert.equal(cocoon(['attest', 'inspect', join(dir, 'b', 'cert.pem'), '--quote-out', q]).code, 0);
      const col = ['attest', 'verify', q, '--collateral', join(pki, 'collateral.json'), '--json'];
      const pinned = JSON.parse(cocoon([...col, '--root', join(pki, 'root.pem')]).out);
      assert.equal(pinned.ok, true, pinned.error);
      assert.equal(pinned.status, 'UpToDate');
      assert.equal(pinned.mrtd, mrtd);
      assert.equal(pinned.root, 'NOT Intel: a pinned test root');
      const intelPinned = cocoon(col);
      assert.equal(intelPinned.code, 1);
      assert.equal(JSON.parse(intelPinned.out).code, 'ROOT_NOT_TRUSTED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('cocoon bench attest --quick --json measures verification and handshakes', async () => {
  const child = spawn(process.execPath, [bin, 'bench', 'attest', '--quick', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0);
  const o = JSON.parse(out) as Record<string, number>;
  for (const k of [
    'verify_median_ms',
    'handshake_p50_ms',
    'handshake_p99_ms',
    'baseline_phala_verify_median_ms',
  ]) {
    assert.ok(typeof o[k] === 'number' && o[k] > 0, `${k}: ${o[k]}`);
  }
  assert.ok(o.handshake_p99_ms! >= o.handshake_p50_ms!);
});
