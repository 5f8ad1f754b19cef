import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { tlArbitraries } from '../../test/support/tl-arbitrary.ts';
import { TlError } from '../errors.ts';
import { cocoonCodec, decodeTl, decodeTlAs, decodeTlResult, encodeTl, tlObjectFromJson } from './cocoon.ts';
import { TlCodec, type TlObject } from './codec.ts';
import { tlFromJson, tlToJson } from './json.ts';
import { parseSchema } from './schema.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function tlError(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof TlError, `expected a TlError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('TL encoding (TON flavour)', () => {
  test('encodes a boxed tcp.ping as id + little-endian long', () => {
    assert.equal(hex(encodeTl({ _: 'tcp.ping', id: 5n })), '7c62e9bb0500000000000000');
    assert.equal(hex(encodeTl({ _: 'tcp.ping', id: -1n })), '7c62e9bbffffffffffffffff');
  });

  test('writes bytes with a 1-byte length below 254 and pads to 4', () => {
    const b = encodeTl({ _: 'tcp.packet', data: unhex('aabbcc') });
    assert.equal(hex(b), 'f8ba179c' + '03aabbcc');
    const b2 = encodeTl({ _: 'tcp.packet', data: unhex('aabbccdd') });
    assert.equal(hex(b2), 'f8ba179c' + '04aabbccdd000000');
    const b0 = encodeTl({ _: 'tcp.packet', data: new Uint8Array(0) });
    assert.equal(hex(b0), 'f8ba179c' + '00000000');
  });

  test('switches to 0xFE + 3-byte length at 254 bytes', () => {
    const data253 = new Uint8Array(253).fill(7);
    const e253 = encodeTl({ _: 'tcp.packet', data: data253 });
    assert.equal(e253.length, 4 + 1 + 253 + 2);
    assert.equal(e253[4], 253);
    const data254 = new Uint8Array(254).fill(7);
    const e254 = encodeTl({ _: 'tcp.packet', data: data254 });
    assert.equal(hex(e254.subarray(4, 8)), 'fefe0000');
    assert.equal(e254.length, 4 + 4 + 254 + 2);
    assert.deepEqual(decodeTl(e254), { _: 'tcp.packet', data: data254 });
    const big = new Uint8Array(70000);
    const eb = encodeTl({ _: 'tcp.packet', data: big });
    assert.equal(hex(eb.subarray(4, 8)), 'fe701101');
  });

  test('reads the 0xFF long-length form written by td', () => {
    const b = unhex('f8ba179c' + 'ff' + '05000000' + '000000' + '0102030405' + '000000');
    assert.deepEqual(decodeTl(b), { _: 'tcp.packet', data: unhex('0102030405') });
  });

  test('encodes Bool boxed and bare constructors without an id', () => {
    const b = encodeTl({ _: 'worker.proxyHandshakeComplete', is_disabled: true });
    assert.equal(hex(b), '66b043f8' + 'b5757299');
    const f = encodeTl({ _: 'worker.proxyHandshakeComplete', is_disabled: false });
    assert.equal(hex(f), '66b043f8' + '379779bc');
    const tokens = {
      prompt_tokens_used: 1n,
      cached_tokens_used: 2n,
      completion_tokens_used: 3n,
      reasoning_tokens_used: 4n,
      total_tokens_used: 10n,
    };
    const e = cocoonCodec().encodeType('tokensUsed', tokens);
    assert.equal(e.length, 40, 'a bare tokensUsed is five longs, no id');
    assert.deepEqual(cocoonCodec().decodeType('tokensUsed', e), { _: 'tokensUsed', ...tokens });
  });

  test('encodes vectors as a count and elements, no vector id', () => {
    const b = encodeTl({
      _: 'keyManager.privateKeys',
      keys: [{ valid_until_utime: 1, private_key: new Uint8Array(32).fill(9) }],
    });
    assert.equal(hex(b.subarray(0, 12)), 'e56cd60e' + '01000000' + '01000000');
    assert.equal(b.length, 4 + 4 + 4 + 32);
  });

  test('writes conditional fields only when their flag bit is set', () => {
    const base = { _: 'client.params', client_owner_address: 'EQ' } as const;
    const none = encodeTl({ ...base, flags: 0 });
    assert.equal(hex(none), '64cafd40' + '00000000' + '02455100');
    const both = encodeTl({ ...base, flags: 3, is_test: true, min_proto_version: 1, max_proto_version: 2 });
    assert.equal(hex(both), '64cafd40' + '03000000' + '02455100' + 'b5757299' + '01000000' + '02000000');
    assert.deepEqual(decodeTl(both), {
      ...base,
      flags: 3,
      is_test: true,
      min_proto_version: 1,
      max_proto_version: 2,
    });
  });

  test('refuses a conditional field that its flags do not announce, and a missing one they do', () => {
    assert.throws(
      () => encodeTl({ _: 'client.params', flags: 0, client_owner_address: '', is_test: true }),
      tlError('TL_BAD_VALUE'),
    );
    assert.throws(
      () => encodeTl({ _: 'client.params', flags: 1, client_owner_address: '' }),
      tlError('TL_BAD_VALUE'),
    );
  });

  test('lets a bare field leave out "_" but refuses a wrong one', () => {
    const p = {
      flags: 0,
      proxy_public_key: new Uint8Array(32),
      proxy_owner_address: 'a',
      proxy_sc_address: 'b',
    };
    const enc = encodeTl({ _: 'worker.connectedToProxy', params: p, worker_sc_address: 'c' });
    const dec = decodeTl(enc);
    assert.deepEqual(dec, {
      _: 'worker.connectedToProxy',
      params: { _: 'proxy.params', ...p },
      worker_sc_address: 'c',
    });
    const wrong = {
      _: 'worker.connectedToProxy',
      params: { ...p, _: 'client.params' },
      worker_sc_address: 'c',
    };
    assert.throws(() => encodeTl(wrong as never), tlError('TL_BAD_VALUE'));
  });

  test('refuses values out of range for their type', () => {
    assert.throws(() => encodeTl({ _: 'tcp.ping', id: 1n << 63n }), tlError('TL_BAD_VALUE'));
    assert.throws(() => encodeTl({ _: 'tcp.ping', id: 5 as never }), tlError('TL_BAD_VALUE'));
    assert.throws(
      () => encodeTl({ _: 'worker.enabledDisabled', disabled: 2 ** 31 }),
      tlError('TL_BAD_VALUE'),
    );
    assert.throws(() => encodeTl({ _: 'worker.enabledDisabled', disabled: 1.5 }), tlError('TL_BAD_VALUE'));
    assert.throws(
      () => encodeTl({ _: 'keyManager.getProxyPrivateKeys', min_config_version: '1' as never }),
      tlError('TL_BAD_VALUE'),
    );
    assert.throws(
      () => encodeTl({ _: 'proxy.pendingX' as never } as never),
      tlError('TL_UNKNOWN_CONSTRUCTOR'),
    );
    const shortKey = { valid_until_utime: 1, private_key: new Uint8Array(31) };
    assert.throws(() => encodeTl({ _: 'keyManager.privateKeys', keys: [shortKey] }), tlError('TL_BAD_VALUE'));
    assert.throws(
      () => encodeTl({ _: 'tcp.packet', data: new Uint8Array(0x1000000) }),
      tlError('TL_TOO_LONG'),
    );
  });

  test('names the field that holds a bad value', () => {
    assert.throws(
      () => encodeTl({ _: 'tcp.queryError', id: 1n, code: 'x' as never, message: '' }),
      (e: unknown) => e instanceof TlError && e.message.startsWith('tcp.queryError.code:'),
    );
  });

  test('reserves a prefix for a frame header so the payload is copied once', () => {
    const data = new Uint8Array(1000).fill(1);
    const b = encodeTl({ _: 'tcp.packet', data }, { prefix: 8 });
    assert.equal(hex(b.subarray(0, 8)), '0000000000000000');
    assert.deepEqual(decodeTl(b.subarray(8)), { _: 'tcp.packet', data });
  });

  test('returns bytes as views into the input, not copies', () => {
    const enc = encodeTl({ _: 'tcp.packet', data: new Uint8Array(65536).fill(3) });
    const dec = decodeTl(enc);
    assert.equal(dec._, 'tcp.packet');
    if (dec._ === 'tcp.packet') assert.equal(dec.data.buffer, enc.buffer);
  });

  test('decodes a value of a boxed type and refuses a constructor of another type', () => {
    const ping = encodeTl({ _: 'tcp.ping', id: 1n });
    assert.deepEqual(decodeTlAs('tcp.Packet', ping), { _: 'tcp.ping', id: 1n });
    assert.throws(() => decodeTlAs('proxy.SignedPayment', ping), tlError('TL_UNEXPECTED_CONSTRUCTOR'));
    const answer = encodeTl({ _: 'worker.proxyHandshakeCompleted' });
    assert.deepEqual(decodeTlResult('worker.proxyHandshakeComplete', answer), {
      _: 'worker.proxyHandshakeCompleted',
    });
  });
});

describe('TL decoding never trusts its input', () => {
  const ping = encodeTl({ _: 'tcp.ping', id: 5n });

  test('fails on truncated input with TL_TRUNCATED', () => {
    for (let i = 0; i < ping.length; i++)
      assert.throws(() => decodeTl(ping.subarray(0, i)), tlError('TL_TRUNCATED'));
  });

  test('fails on an unknown constructor with TL_UNKNOWN_CONSTRUCTOR', () => {
    assert.throws(() => decodeTl(unhex('01020304 05000000 00000000')), tlError('TL_UNKNOWN_CONSTRUCTOR'));
  });

  test('fails on trailing bytes with TL_TRAILING_BYTES', () => {
    assert.throws(() => decodeTl(Buffer.concat([ping, Buffer.alloc(4)])), tlError('TL_TRAILING_BYTES'));
  });

  test('fails on a vector count larger than the input before allocating it', () => {
    const b = unhex('e56cd60e' + 'ffffff7f');
    assert.throws(() => decodeTl(b), tlError('TL_BAD_LENGTH'));
    assert.throws(() => decodeTl(unhex('e56cd60e' + 'ffffffff')), tlError('TL_BAD_LENGTH'));
    // Two elements announced, one present.
    const one = encodeTl({
      _: 'keyManager.privateKeys',
      keys: [{ valid_until_utime: 1, private_key: new Uint8Array(32) }],
    });
    one.writeInt32LE(2, 4);
    assert.throws(() => decodeTl(one), tlError('TL_BAD_LENGTH'));
  });

  test('fails on a bytes length beyond the input', () => {
    assert.throws(() => decodeTl(unhex('f8ba179c' + 'fe' + 'ffffff')), tlError('TL_TRUNCATED'));
    assert.throws(() => decodeTl(unhex('f8ba179c' + 'ff' + 'ffffffff' + 'ffffff')), tlError('TL_BAD_LENGTH'));
  });

  test('fails on a Bool that is neither boolTrue nor boolFalse', () => {
    assert.throws(() => decodeTl(unhex('66b043f8' + '00000000')), tlError('TL_BAD_BOOL'));
  });

  test('fails on a boxed field holding a constructor of another type', () => {
    // client.paymentStatus with signed_payment := tcp.ping
    const b = Buffer.concat([unhex('cc0e8aaa'), encodeTl({ _: 'tcp.ping', id: 1n }), Buffer.alloc(16)]);
    assert.throws(() => decodeTl(b), tlError('TL_UNEXPECTED_CONSTRUCTOR'));
  });

  test('stops at the nesting limit on a self-referencing schema', () => {
    const codec = new TlCodec(parseSchema('node child:Maybe = Node; nothing = Maybe; just v:Node = Maybe;'));
    const nest = (n: number): TlObject =>
      n === 0 ? { _: 'node', child: { _: 'nothing' } } : { _: 'node', child: { _: 'just', v: nest(n - 1) } };
    assert.deepEqual(codec.decode(codec.encode(nest(10))), nest(10));
    assert.throws(() => codec.encode(nest(200)), tlError('TL_TOO_DEEP'));
    const justId = codec.schema.byName.get('just')!.id;
    const nodeId = codec.schema.byName.get('node')!.id;
    const deep = Buffer.alloc(8 * 200);
    for (let i = 0; i < 200; i++) {
      deep.writeUInt32LE(nodeId, i * 8);
      deep.writeUInt32LE(justId, i * 8 + 4);
    }
    assert.throws(() => codec.decode(deep), tlError('TL_TOO_DEEP'));
  });
});

describe('TL JSON form', () => {
  test('prints longs as decimal strings, bytes as base64, Bool as true/false', () => {
    const obj = encodeTl({
      _: 'client.paymentStatus',
      signed_payment: { _: 'proxy.signedPayment', data: unhex('0001ff') },
      db_tokens: 12345678901234567n,
      max_tokens: -1n,
    });
    assert.deepEqual(tlToJson(decodeTl(obj)), {
      _: 'client.paymentStatus',
      signed_payment: { _: 'proxy.signedPayment', data: 'AAH/' },
      db_tokens: '12345678901234567',
      max_tokens: '-1',
    });
  });

  test('parses JSON with "_" optional on bare fields and required on boxed ones', () => {
    const json = {
      _: 'worker.connectedToProxy',
      params: {
        flags: 0,
        proxy_public_key: Buffer.alloc(32).toString('base64'),
        proxy_owner_address: 'o',
        proxy_sc_address: 's',
      },
      worker_sc_address: 'w',
    };
    const v = tlObjectFromJson(json);
    assert.equal(hex(encodeTl(v)).slice(0, 8), 'ee82bc66');
    assert.throws(
      () =>
        tlObjectFromJson({
          _: 'client.paymentStatus',
          signed_payment: { data: '' },
          db_tokens: '1',
          max_tokens: '1',
        }),
      tlError('TL_BAD_JSON'),
    );
  });

  test('refuses unknown fields, bad base64, long out of range and wrong kinds with the path', () => {
    const bad = [
      { _: 'tcp.ping', id: '5', extra: 1 },
      { _: 'tcp.ping' },
      { _: 'tcp.ping', id: '9223372036854775808' },
      { _: 'tcp.ping', id: 'five' },
      { _: 'tcp.packet', data: 'not base64!' },
      { _: 'keyManager.privateKeys', keys: [{ valid_until_utime: 1, private_key: 'AAAA' }] },
      { _: 'worker.proxyHandshakeComplete', is_disabled: 'yes' },
      { _: 'nope.nope' },
      [1, 2],
    ];
    for (const j of bad) assert.throws(() => tlObjectFromJson(j), tlError('TL_BAD_JSON'), JSON.stringify(j));
    assert.throws(
      () =>
        tlObjectFromJson({
          _: 'keyManager.privateKeys',
          keys: [{ valid_until_utime: 'x', private_key: '' }],
        }),
      (e: unknown) => e instanceof TlError && e.message.startsWith('keys[0].valid_until_utime'),
    );
  });

  test('carries non-finite doubles as strings', () => {
    const v = { _: 'worker.newCoefficient', new_coefficient: 1 } as const;
    assert.deepEqual(tlToJson(v), v);
    const j = tlToJson(Number.NaN);
    assert.equal(j, 'NaN');
    assert.equal(tlFromJson(cocoonCodec().schema, '-Infinity', 'double'), Number.NEGATIVE_INFINITY);
  });
});

describe('TL round trips (property)', () => {
  const schema = cocoonCodec().schema;
  const codable = schema.combinators.filter(
    (c) => c.codable && !['bytes', 'true', 'boolTrue', 'boolFalse'].includes(c.name),
  );

  test('covers every constructor and function of the schema', () => {
    assert.equal(codable.length, 105 - 7 + 17); // the reference's, and the 17 of cocoon_ext.tl
  });

  const binary = tlArbitraries(schema);
  const json = tlArbitraries(schema, { jsonSafeDoubles: true });
  for (const c of codable) {
    test(`${c.name}: decode(encode(x)) = x and its JSON form parses back`, () => {
      fc.assert(
        fc.property(binary.combinatorArb(c), (obj) => {
          const enc = cocoonCodec().encode(obj);
          assert.equal(enc.readUInt32LE(0), c.id);
          assert.deepEqual(cocoonCodec().decode(enc), obj);
        }),
        { numRuns: 60 },
      );
      fc.assert(
        fc.property(json.combinatorArb(c), (obj) => {
          const text = JSON.stringify(tlToJson(obj));
          assert.deepEqual(tlObjectFromJson(JSON.parse(text)), obj);
        }),
        { numRuns: 30 },
      );
    });
  }
});
