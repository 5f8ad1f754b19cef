import { ProtocolError } from '../errors.ts';

/** Smallest payload a frame may carry: a TL constructor id (cocoon-reference.md §2.3). */
export const FRAME_MIN = 4;
/** Largest payload a frame may carry, 16 MiB (cocoon-reference.md §2.3). */
export const FRAME_MAX = 16 * 1024 * 1024;
/** Frame header: u32 LE payload length, then i32 LE seqno. */
export const FRAME_HEADER = 8;

/** One received frame. `payload` may be a view into a received chunk. */
export interface Frame {
  seqno: number;
  payload: Buffer;
}

/**
 * Throws `FRAME_TOO_SMALL` or `FRAME_TOO_LARGE` unless `len` is a valid payload length.
 *
 * @example
 * checkFrameLength(FRAME_MAX + 1) // throws ProtocolError FRAME_TOO_LARGE
 */
export function checkFrameLength(len: number): void {
  if (len > FRAME_MAX) {
    throw new ProtocolError('FRAME_TOO_LARGE', `frame payload of ${len} bytes exceeds ${FRAME_MAX}`);
  }
  if (len < FRAME_MIN) {
    throw new ProtocolError('FRAME_TOO_SMALL', `frame payload of ${len} bytes is under ${FRAME_MIN}`);
  }
}

/**
 * Writes the 8-byte frame header into the first bytes of `buf`, whose payload starts at {@link FRAME_HEADER}:
 * the buffer comes from `encodeTl(obj, { prefix: FRAME_HEADER })`, so the payload is never copied on send.
 * Throws `FRAME_TOO_LARGE` / `FRAME_TOO_SMALL` for a payload length out of range.
 *
 * @example
 * const buf = encodeTl({ _: 'tcp.ping', id: 1n }, { prefix: FRAME_HEADER });
 * socket.write(writeFrameHeader(buf, buf.length - FRAME_HEADER, seqno++));
 */
export function writeFrameHeader(buf: Buffer, payloadLen: number, seqno: number): Buffer {
  checkFrameLength(payloadLen);
  if (buf.length < FRAME_HEADER + payloadLen) {
    throw new RangeError(`buffer of ${buf.length} bytes cannot hold a ${payloadLen}-byte payload and header`);
  }
  buf.writeUInt32LE(payloadLen, 0);
  buf.writeInt32LE(seqno | 0, 4);
  return buf;
}

/**
 * Builds a frame (header + a copy of `payload`); for tests and tools, the send path uses
 * {@link writeFrameHeader} in place.
 *
 * @example
 * encodeFrame(encodeTl({ _: 'tcp.ping', id: 1n }), 0).length // 8 + 12
 */
export function encodeFrame(payload: Uint8Array, seqno: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  buf.set(payload, FRAME_HEADER);
  return writeFrameHeader(buf, payload.length, seqno);
}

/** Past this many buffered chunks, chunks smaller than `COALESCE_BELOW` are copied into shared blocks. */
const COALESCE_AFTER = 16;
const COALESCE_BELOW = 4096;
const STAGE_BLOCK = 64 * 1024;

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Incremental frame parser for one direction of a connection. It checks the length as soon as a header is
 * complete (so a header announcing 16 MiB costs nothing until the bytes arrive), checks that seqnos count up
 * from `seqno` (default 0), and keeps received chunks in a list until a frame is complete. A frame inside one
 * chunk comes out as a view of that chunk; one spanning chunks is copied once. After a failure every later
 * call throws the same error.
 *
 * @example
 * const dec = new FrameDecoder();
 * socket.on('data', (chunk) => {
 *   for (const { seqno, payload } of dec.push(chunk)) handle(seqno, payload);
 * });
 */
export class FrameDecoder {
  /** The seqno the next frame must carry. */
  expectedSeqno: number;
  private chunks: Buffer[] = [];
  /** Offset of the first unread byte in `chunks[0]`. */
  private head = 0;
  private buffered = 0;
  /** Payload length of a frame whose header has been read, or -1 while waiting for a header. */
  private bodyLen = -1;
  private bodySeqno = 0;
  private failure: Error | undefined;
  /** Block that small chunks are copied into; `stageView` is its filled part, the last entry of `chunks`. */
  private stage: Buffer | undefined;
  private stageView: Buffer | undefined;
  private stageEnd = 0;

  constructor(opts?: { seqno?: number }) {
    this.expectedSeqno = opts?.seqno ?? 0;
  }

  /** Bytes received but not yet returned as frames (header bytes of the pending frame excluded). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk and returns the frames it completes. Frames are parsed while iterating: a bad header throws
   * from the iteration after the frames before it were yielded.
   */
  push(chunk: Uint8Array): Generator<Frame, void, undefined> {
    if (this.failure === undefined && chunk.length > 0) {
      if (this.chunks.length >= COALESCE_AFTER && chunk.length < COALESCE_BELOW) this.pushSmall(chunk);
      else this.chunks.push(asBuffer(chunk));
      this.buffered += chunk.length;
    }
    return this.frames();
  }

  /**
   * A peer trickling a large frame in tiny chunks would otherwise cost one Buffer object (~100 bytes) per
   * received byte; copying them into blocks bounds the overhead by what actually arrived.
   */
  private pushSmall(chunk: Uint8Array): void {
    const last = this.chunks.length - 1;
    let stage = this.stage;
    if (
      stage === undefined ||
      this.chunks[last] !== this.stageView ||
      stage.length - this.stageEnd < chunk.length
    ) {
      stage = Buffer.allocUnsafe(STAGE_BLOCK);
      this.stage = stage;
      stage.set(chunk, 0);
      this.stageEnd = chunk.length;
      this.stageView = stage.subarray(0, chunk.length);
      this.chunks.push(this.stageView);
      return;
    }
    const start = this.stageEnd - this.stageView!.length;
    stage.set(chunk, this.stageEnd);
    this.stageEnd += chunk.length;
    this.stageView = stage.subarray(start, this.stageEnd);
    this.chunks[last] = this.stageView;
  }

  private *frames(): Generator<Frame, void, undefined> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.bodyLen < 0) {
        if (this.buffered < FRAME_HEADER) return;
        const header = this.take(FRAME_HEADER);
        const len = header.readUInt32LE(0);
        const seqno = header.readInt32LE(4);
        try {
          checkFrameLength(len);
          if (seqno !== this.expectedSeqno) {
            throw new ProtocolError('BAD_SEQNO', `expected seqno ${this.expectedSeqno}, got ${seqno}`);
          }
        } catch (err) {
          this.fail(err as Error);
          throw err;
        }
        this.bodyLen = len;
        this.bodySeqno = seqno;
      }
      if (this.buffered < this.bodyLen) return;
      const payload = this.take(this.bodyLen);
      this.bodyLen = -1;
      this.expectedSeqno = (this.expectedSeqno + 1) | 0;
      yield { seqno: this.bodySeqno, payload };
    }
  }

  /** Removes `n` buffered bytes (n ≤ buffered): a view when they sit in one chunk, else one copy. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length - this.head >= n) {
      out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      let used = 0;
      while (filled < n) {
        const c = this.chunks[used]!;
        const m = Math.min(c.length - this.head, n - filled);
        c.copy(out, filled, this.head, this.head + m);
        filled += m;
        this.head += m;
        if (this.head === c.length) {
          used++;
          this.head = 0;
        }
      }
      this.chunks.splice(0, used);
    }
    this.buffered -= n;
    return out;
  }

  private fail(err: Error): void {
    this.failure = err;
    this.chunks = [];
    this.buffered = 0;
    this.head = 0;
    this.stage = undefined;
    this.stageView = undefined;
  }
}
