import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CocoonError, ProtocolError, TonErrorCode, tonErrorCode } from '../errors.ts';
import { encodeTl } from '../tl/cocoon.ts';
import {
  checkFrameLength,
  encodeFrame,
  FRAME_HEADER,
  FRAME_MAX,
  FRAME_MIN,
  type Frame,
  FrameDecoder,
  writeFrameHeader,
} from './frame.ts';

function header(len: number, seqno: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER);
  h.writeUInt32LE(len >>> 0, 0);
  h.writeInt32LE(seqno, 4);
  return h;
}

function code(err: unknown): string {
  assert.ok(err instanceof CocoonError, `not a CocoonError: ${String(err)}`);
  return err.code;
}

describe('frame header', () => {
  test('writes u32 LE length and i32 LE seqno in front of a payload encoded with a prefix', () => {
    const buf = encodeTl({ _: 'tcp.ping', id: 5n }, { prefix: FRAME_HEADER });
    const payload = buf.subarray(FRAME_HEADER);
    const out = writeFrameHeader(buf, payload.length, 7);
    assert.equal(out, buf);
    assert.equal(buf.toString('hex'), '0c000000070000007c62e9bb0500000000000000');
  });

  test('encodes negative seqnos as i32', () => {
    const f = encodeFrame(Buffer.from([1, 2, 3, 4]), -2);
    assert.equal(f.readInt32LE(4), -2);
    assert.deepEqual([...f.subarray(8)], [1, 2, 3, 4]);
  });

  test('rejects payload lengths outside 4..16 MiB with typed protocol errors', () => {
    assert.throws(
      () => checkFrameLength(FRAME_MIN - 1),
      (e) => code(e) === 'FRAME_TOO_SMALL',
    );
    assert.throws(
      () => checkFrameLength(FRAME_MAX + 1),
      (e) => code(e) === 'FRAME_TOO_LARGE',
    );
    checkFrameLength(FRAME_MIN);
    checkFrameLength(FRAME_MAX);
    assert.throws(
      () => encodeFrame(Buffer.alloc(2), 0),
      (e) => e instanceof ProtocolError && e.code === 'FRAME_TOO_SMALL',
    );
    const err = new ProtocolError('FRAME_TOO_LARGE', 'x');
    assert.equal(tonErrorCode(err), TonErrorCode.protoviolation);
  });
});

describe('FrameDecoder', () => {
  test('returns a frame that sits inside one chunk as a view of that chunk', () => {
    const a = encodeFrame(Buffer.from('aaaa'), 0);
    const b = encodeFrame(Buffer.from('bbbbbbbb'), 1);
    const chunk = Buffer.concat([a, b]);
    const frames = [...new FrameDecoder().push(chunk)];
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.seqno, 0);
    assert.equal(frames[0]!.payload.toString(), 'aaaa');
    assert.equal(frames[1]!.payload.toString(), 'bbbbbbbb');
    for (const f of frames) assert.equal(f.payload.buffer, chunk.buffer, 'payload was copied');
  });

  test('returns a frame inside a chunk as a view even after a frame that spanned chunks', () => {
    const dec = new FrameDecoder();
    const first = encodeFrame(Buffer.from('spanning'), 0);
    assert.equal([...dec.push(first.subarray(0, 10))].length, 0);
    const chunk = Buffer.concat([first.subarray(10), encodeFrame(Buffer.from('inside'), 1)]);
    const frames = [...dec.push(chunk)];
    assert.deepEqual(
      frames.map((f) => f.payload.toString()),
      ['spanning', 'inside'],
    );
    assert.equal(frames[1]!.payload.buffer, chunk.buffer, 'payload was copied');
  });

  test('reassembles a frame split byte by byte', () => {
    const payload = Buffer.from('a frame split across many tiny chunks');
    const wire = Buffer.concat([encodeFrame(payload, 0), encodeFrame(Buffer.from('next'), 1)]);
    const dec = new FrameDecoder();
    const frames: Frame[] = [];
    for (let i = 0; i < wire.length; i++) frames.push(...dec.push(wire.subarray(i, i + 1)));
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.payload.toString(), payload.toString());
    assert.equal(frames[1]!.payload.toString(), 'next');
    assert.equal(dec.bufferedBytes, 0);
  });

  test('reassembles frames over random chunk boundaries', () => {
    const payloads = Array.from({ length: 50 }, (_, i) => Buffer.alloc(4 + ((i * 7919) % 5000), i));
    const wire = Buffer.concat(payloads.map((p, i) => encodeFrame(p, i)));
    let seed = 12345;
    const dec = new FrameDecoder();
    const got: Buffer[] = [];
    for (let at = 0; at < wire.length; ) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = 1 + (seed % 3000);
      for (const f of dec.push(wire.subarray(at, at + n))) got.push(Buffer.from(f.payload));
      at += n;
    }
    assert.deepEqual(got, payloads);
  });

  test('rejects an oversize header before any of its body arrives, without allocating it', () => {
    const dec = new FrameDecoder();
    assert.throws(
      () => [...dec.push(header(FRAME_MAX + 1, 0))],
      (e) => code(e) === 'FRAME_TOO_LARGE',
    );
    // Once failed, it stays failed.
    assert.throws(
      () => [...dec.push(Buffer.alloc(16))],
      (e) => code(e) === 'FRAME_TOO_LARGE',
    );
    assert.throws(
      () => [...new FrameDecoder().push(header(0xffffffff, 0))],
      (e) => code(e) === 'FRAME_TOO_LARGE',
    );
  });

  test('holds only the received bytes of a frame that announces 16 MiB', () => {
    const before = process.memoryUsage().arrayBuffers;
    const decoders: FrameDecoder[] = [];
    for (let i = 0; i < 32; i++) {
      const d = new FrameDecoder();
      assert.equal([...d.push(Buffer.concat([header(FRAME_MAX, 0), Buffer.alloc(100)]))].length, 0);
      decoders.push(d);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    // 32 decoders each told to expect 16 MiB: eager allocation would show 512 MiB here.
    assert.ok(grown < 64 * 1024 * 1024, `array buffers grew by ${grown}`);
    assert.equal(decoders[0]!.bufferedBytes, 100);
  });

  test('rejects a header shorter than a TL constructor id', () => {
    assert.throws(
      () => [...new FrameDecoder().push(header(3, 0))],
      (e) => code(e) === 'FRAME_TOO_SMALL',
    );
  });

  test('rejects an out-of-order seqno with BAD_SEQNO', () => {
    const dec = new FrameDecoder();
    const ok = [...dec.push(encodeFrame(Buffer.alloc(4), 0))];
    assert.equal(ok.length, 1);
    assert.throws(
      () => [...dec.push(encodeFrame(Buffer.alloc(4), 2))],
      (e) => code(e) === 'BAD_SEQNO',
    );
  });

  test('yields the frames before a bad header, then throws', () => {
    const wire = Buffer.concat([encodeFrame(Buffer.from('good'), 0), header(1, 1)]);
    const got: string[] = [];
    assert.throws(
      () => {
        for (const f of new FrameDecoder().push(wire)) got.push(f.payload.toString());
      },
      (e) => code(e) === 'FRAME_TOO_SMALL',
    );
    assert.deepEqual(got, ['good']);
  });

  test('continues seqnos from a given start and wraps at i32', () => {
    const dec = new FrameDecoder({ seqno: 0x7fffffff });
    const wire = Buffer.concat([
      encodeFrame(Buffer.alloc(4), 0x7fffffff),
      encodeFrame(Buffer.alloc(4), -0x80000000),
    ]);
    assert.deepEqual(
      [...dec.push(wire)].map((f) => f.seqno),
      [0x7fffffff, -0x80000000],
    );
  });

  test('reassembles a 200 KB frame trickled in 3-byte chunks', () => {
    const dec = new FrameDecoder();
    const payload = Buffer.alloc(200_000, 7);
    const wire = encodeFrame(payload, 0);
    const frames: Frame[] = [];
    for (let i = 0; i < wire.length; i += 3) frames.push(...dec.push(wire.subarray(i, i + 3)));
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.payload.equals(payload));
  });
});
