import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import {
  AEAD,
  type AeadId,
  deriveX25519,
  generateX25519,
  hkdfSha256,
  setupBaseRecipient,
  setupBaseSender,
} from './hpke.ts';

const h = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array | ArrayBuffer) =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
const ab = (u: Uint8Array) => new Uint8Array(u).buffer as ArrayBuffer; // a copy: a Buffer may view a shared pool

describe('HPKE (RFC 9180) base mode', () => {
  it('reproduces the RFC 9180 A.1.1 vector (X25519, HKDF-SHA256, AES-128-GCM)', () => {
    const e = deriveX25519(h('7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234'));
    const r = deriveX25519(h('6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037'));
    assert.equal(hex(e.privateKey), '52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736');
    assert.equal(hex(r.privateKey), '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8');
    assert.equal(hex(r.publicKey), '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d');
    const info = h('4f6465206f6e2061204772656369616e2055726e');
    const { enc, context } = setupBaseSender(AEAD.AES128GCM, r.publicKey, info, { ephemeral: e });
    assert.equal(hex(enc), '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431');
    const pt = h('4265617574792069732074727574682c20747275746820626561757479');
    const ct = context.seal(pt, h('436f756e742d30'));
    assert.equal(
      hex(ct),
      'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a',
    );
    assert.equal(
      hex(context.export(new Uint8Array(0), 32)),
      '3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee',
    );
    const rc = setupBaseRecipient(AEAD.AES128GCM, enc, r.privateKey, info);
    assert.deepEqual(new Uint8Array(rc.open(ct, h('436f756e742d30'))), pt);
  });

  const suites: [string, AeadId, () => CipherSuite][] = [
    ['AES-128-GCM', AEAD.AES128GCM, () => suite(new Aes128Gcm())],
    ['AES-256-GCM', AEAD.AES256GCM, () => suite(new Aes256Gcm())],
    ['ChaCha20-Poly1305', AEAD.CHACHA20POLY1305, () => suite(new Chacha20Poly1305())],
  ];
  function suite(aead: Aes128Gcm | Aes256Gcm | Chacha20Poly1305): CipherSuite {
    return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead });
  }

  for (const [name, id, make] of suites) {
    it(`interoperates with @hpke/core both ways (${name})`, async () => {
      const s = make();
      const info = new TextEncoder().encode('cocoon test');
      const aad = new TextEncoder().encode('aad');
      // Ours seals, the library opens: three messages, in order, and the exported secrets agree.
      const r = await s.kem.generateKeyPair();
      const pkR = new Uint8Array(await s.kem.serializePublicKey(r.publicKey));
      const { enc, context } = setupBaseSender(id, pkR, info);
      const theirs = await s.createRecipientContext({ recipientKey: r, enc: ab(enc), info: ab(info) });
      for (const m of ['one', 'two', 'three']) {
        const pt = await theirs.open(ab(context.seal(new TextEncoder().encode(m), aad)), ab(aad));
        assert.equal(new TextDecoder().decode(pt), m);
      }
      assert.equal(hex(await theirs.export(ab(info), 32)), hex(context.export(info, 32)));
      // The library seals, ours opens.
      const mine = generateX25519();
      const sender = await s.createSenderContext({
        recipientPublicKey: await s.kem.deserializePublicKey(ab(mine.publicKey)),
        info: ab(info),
      });
      const ours = setupBaseRecipient(id, new Uint8Array(sender.enc), mine.privateKey, info);
      for (const m of ['a', 'bb', '']) {
        const ct = new Uint8Array(await sender.seal(ab(new TextEncoder().encode(m)), ab(aad)));
        assert.equal(ours.open(ct, aad).toString(), m);
      }
    });
  }

  it('refuses a tampered, reordered or foreign ciphertext and a low-order key', () => {
    const r = generateX25519();
    const info = new Uint8Array([1]);
    const { enc, context } = setupBaseSender(AEAD.AES256GCM, r.publicKey, info);
    const c1 = context.seal(Buffer.from('first'));
    const c2 = context.seal(Buffer.from('second'));
    const flipped = Buffer.from(c1);
    flipped[0]! ^= 1;
    assert.throws(() => setupBaseRecipient(AEAD.AES256GCM, enc, r.privateKey, info).open(flipped), {
      code: 'SEAL_OPEN_FAILED',
    });
    // Second message first: the nonce sequence makes it fail.
    assert.throws(() => setupBaseRecipient(AEAD.AES256GCM, enc, r.privateKey, info).open(c2), {
      code: 'SEAL_OPEN_FAILED',
    });
    // Another recipient's key, or another info string.
    assert.throws(() => setupBaseRecipient(AEAD.AES256GCM, enc, generateX25519().privateKey, info).open(c1), {
      code: 'SEAL_OPEN_FAILED',
    });
    assert.throws(() => setupBaseRecipient(AEAD.AES256GCM, enc, r.privateKey, new Uint8Array([2])).open(c1), {
      code: 'SEAL_OPEN_FAILED',
    });
    // The all-zero point (and other low-order points) give a zero shared secret.
    assert.throws(() => setupBaseSender(AEAD.AES256GCM, new Uint8Array(32), info), {
      code: 'SEAL_KEY_INVALID',
    });
    assert.throws(() => setupBaseSender(AEAD.AES256GCM, new Uint8Array(31), info), {
      code: 'SEAL_KEY_INVALID',
    });
    assert.throws(() => setupBaseSender(0x9 as AeadId, r.publicKey, info), {
      code: 'SEAL_SUITE_UNSUPPORTED',
    });
  });

  it('hkdfSha256 is RFC 5869 (case 1) and agrees with node hkdfSync', () => {
    const ikm = h('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b');
    const salt = h('000102030405060708090a0b0c');
    const info = h('f0f1f2f3f4f5f6f7f8f9');
    const okm = '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865';
    assert.equal(hex(hkdfSha256(salt, ikm, info, 42)), okm);
    for (const n of [1, 32, 44, 80]) {
      assert.equal(hex(hkdfSha256(salt, ikm, info, n)), hex(hkdfSync('sha256', ikm, salt, info, n)));
    }
  });
});
