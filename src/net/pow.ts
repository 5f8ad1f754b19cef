import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { ProtocolError } from '../errors.ts';
import type { PowWorkerData, PowWorkerResult } from './pow-solver.worker.cjs';

/** First field of the server's 24-byte challenge (`cocoon.powSimple`). */
export const POW_CHALLENGE_MAGIC = 0x418e1291;
/** First field of the client's 12-byte answer (`cocoon.powSimpleResponse`). */
export const POW_ANSWER_MAGIC = 0x01827319;
/** Leading zero bits a server asks for unless told otherwise. */
export const DEFAULT_POW_DIFFICULTY = 20;
/** The hardest challenge a client solves unless told otherwise; harder ones are refused. */
export const DEFAULT_MAX_POW_DIFFICULTY = 28;

const CHALLENGE_BYTES = 24;
const ANSWER_BYTES = 12;
const DEFAULT_TIMEOUT_MS = 10_000;
// Plain JavaScript, so the worker needs no TypeScript loader (workers do not reliably inherit tsx's).
const WORKER_URL = new URL('./pow-solver.worker.cjs', import.meta.url);

/** A solved puzzle with the work it took. */
export interface PowSolution {
  nonce: bigint;
  /** Nonces hashed by all workers together (each worker's count is exact to within 4096). */
  tries: number;
  threads: number;
}

export interface SolvePowOptions {
  /** Aborting rejects with `POW_ABORTED` and terminates the workers. */
  signal?: AbortSignal;
  /** Worker threads; default `min(2, os.availableParallelism())`. */
  threads?: number;
  /** Refuse (`POW_TOO_HARD`) above this; default {@link DEFAULT_MAX_POW_DIFFICULTY}. */
  maxDifficulty?: number;
}

export interface PowAcceptOptions {
  /** Leading zero bits to ask for; default {@link DEFAULT_POW_DIFFICULTY}. */
  difficulty?: number;
  /** Time for the client to answer, from the challenge on; default 10 s, 0 disables. */
  timeoutMs?: number;
  /** 16 bytes; default random. */
  salt?: Uint8Array;
}

export interface PowConnectOptions {
  /** Refuse (`POW_TOO_HARD`) challenges above this; default {@link DEFAULT_MAX_POW_DIFFICULTY}. */
  maxDifficulty?: number;
  /** Time for the server's challenge to arrive; default 10 s, 0 disables. `maxDifficulty` bounds solving. */
  timeoutMs?: number;
  /** Aborting rejects with `POW_ABORTED`. */
  signal?: AbortSignal;
}

/**
 * Leading zero bits of a PoW hash as the reference implementation counts them: the first 8 bytes read as a
 * little-endian u64, so byte 7 comes first (from its top bit down), then byte 6, and so on.
 *
 * @example
 * powLeadingZeroBits(Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0x01)); // 7
 */
export function powLeadingZeroBits(hash: Uint8Array): number {
  if (hash.length < 8) throw new RangeError(`PoW hash too short: ${hash.length} bytes`);
  for (let i = 7; i >= 0; i--) {
    const b = hash[i]!;
    if (b !== 0) return (7 - i) * 8 + Math.clz32(b) - 24;
  }
  return 64;
}

/**
 * Whether SHA-256(salt ‖ nonce as 8 LE bytes) has at least `difficulty` leading zero bits.
 *
 * @example
 * checkPow(salt, await solvePow(salt, 16), 16); // true
 */
export function checkPow(salt: Uint8Array, nonce: bigint, difficulty: number): boolean {
  const n = Buffer.alloc(8);
  n.writeBigInt64LE(BigInt.asIntN(64, nonce));
  const hash = createHash('sha256').update(salt).update(n).digest();
  return powLeadingZeroBits(hash) >= difficulty;
}

/**
 * Finds a nonce for a challenge on worker threads, without blocking the event loop.
 *
 * @example
 * const nonce = await solvePow(randomBytes(16), 20, { signal: AbortSignal.timeout(5000) });
 */
export async function solvePow(
  salt: Uint8Array,
  difficulty: number,
  opts: SolvePowOptions = {},
): Promise<bigint> {
  return (await solvePowDetailed(salt, difficulty, opts)).nonce;
}

/**
 * {@link solvePow} that also tells how many nonces were hashed: thread `i` of `T` tries `i`, `i + T`, …
 * and the first nonce found wins.
 *
 * @example
 * const { nonce, tries } = await solvePowDetailed(salt, 20);
 */
export async function solvePowDetailed(
  salt: Uint8Array,
  difficulty: number,
  opts: SolvePowOptions = {},
): Promise<PowSolution> {
  if (salt.length !== 16) throw new RangeError(`PoW salt must be 16 bytes, got ${salt.length}`);
  const threads = opts.threads ?? Math.min(2, availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`bad PoW thread count ${threads}`);
  const max = Math.min(opts.maxDifficulty ?? DEFAULT_MAX_POW_DIFFICULTY, 64);
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > max) throw tooHard(difficulty, max);
  const { signal } = opts;
  if (signal?.aborted) throw aborted(signal);
  if (difficulty === 0) return { nonce: 0n, tries: 1, threads: 0 };

  const shared = new SharedArrayBuffer(8 + 8 * threads);
  const tried = new Float64Array(shared, 8, threads);
  const saltCopy = Uint8Array.from(salt);
  return new Promise<PowSolution>((resolve, reject) => {
    const workers: Worker[] = [];
    let exited = 0;
    let settled = false;
    const settle = (result: PowSolution | Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      Atomics.store(new Int32Array(shared, 0, 1), 0, 1);
      const done = () => (result instanceof Error ? reject(result) : resolve(result));
      Promise.all(workers.map((w) => w.terminate())).then(done, done);
    };
    const onAbort = () => settle(aborted(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (let index = 0; index < threads; index++) {
        const workerData: PowWorkerData = {
          kind: 'cocoon-pow',
          salt: saltCopy,
          difficulty,
          index,
          threads,
          shared,
        };
        const w = new Worker(WORKER_URL, { workerData, execArgv: [] });
        workers.push(w);
        w.on('message', (m: PowWorkerResult) => {
          const tries = tried.reduce((sum, n) => sum + n, 0);
          settle({ nonce: m.nonce, tries, threads });
        });
        w.on('error', (err) => settle(err));
        w.on('exit', () => {
          if (++exited === threads) settle(new Error('PoW workers exited without a result'));
        });
      }
    } catch (err) {
      settle(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/**
 * Server side of the PoW gate, on a freshly accepted connection: sends the challenge and verifies the
 * answer. Consumes exactly the 12 answer bytes; whatever the client sent after them (its TLS ClientHello)
 * stays readable on `socket`. On failure the socket is destroyed and the promise rejects with a
 * {@link ProtocolError}: `POW_BAD_MAGIC`, `POW_BAD_NONCE`, `POW_TIMEOUT` or `POW_CLOSED`.
 *
 * @example
 * server.on('connection', async (sock) => {
 *   try { await powAccept(sock); } catch { return; }
 *   const tlsSock = new TLSSocket(sock, { isServer: true, ...tlsOptions });
 * });
 */
export async function powAccept(socket: Socket | Duplex, opts: PowAcceptOptions = {}): Promise<void> {
  const difficulty = opts.difficulty ?? DEFAULT_POW_DIFFICULTY;
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > 64) {
    throw new RangeError(`bad PoW difficulty ${difficulty}`);
  }
  const salt = opts.salt ?? randomBytes(16);
  if (salt.length !== 16) throw new RangeError(`PoW salt must be 16 bytes, got ${salt.length}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = new AbortController();
  const disarm = armTimeout(deadline, timeoutMs, 'PoW answer');
  try {
    const challenge = Buffer.alloc(CHALLENGE_BYTES);
    challenge.writeUInt32LE(POW_CHALLENGE_MAGIC, 0);
    challenge.writeInt32LE(difficulty, 4);
    challenge.set(salt, 8);
    const reading = readExactly(socket, ANSWER_BYTES, deadline.signal, 'PoW answer');
    if (!socket.destroyed) socket.write(challenge);
    const answer = await reading;
    const magic = answer.readUInt32LE(0);
    if (magic !== POW_ANSWER_MAGIC) {
      throw new ProtocolError(
        'POW_BAD_MAGIC',
        `bad PoW answer magic 0x${magic.toString(16).padStart(8, '0')}`,
      );
    }
    const nonce = answer.readBigInt64LE(4);
    if (!checkPow(salt, nonce, difficulty)) {
      throw new ProtocolError('POW_BAD_NONCE', `PoW nonce ${nonce} has fewer than ${difficulty} zero bits`);
    }
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    disarm();
  }
}

/**
 * Client side of the PoW gate, on a freshly opened connection: reads the challenge, solves it on worker
 * threads and sends the answer. Consumes exactly the 24 challenge bytes, so TLS can start right after. On
 * failure the socket is destroyed and the promise rejects with a {@link ProtocolError}: `POW_BAD_MAGIC`,
 * `POW_TOO_HARD` (refused without solving), `POW_TIMEOUT`, `POW_CLOSED` or `POW_ABORTED`.
 *
 * @example
 * const sock = net.connect(port, host);
 * await powConnect(sock, { maxDifficulty: 24 });
 * const tlsSock = tls.connect({ socket: sock, ...tlsOptions });
 */
export async function powConnect(
  socket: Socket | Duplex,
  opts: PowConnectOptions = {},
): Promise<{ difficulty: number; nonce: bigint }> {
  const max = opts.maxDifficulty ?? DEFAULT_MAX_POW_DIFFICULTY;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const outer = opts.signal;
  // One signal for the whole exchange: the caller's abort, the challenge timeout, or the socket closing.
  const stop = new AbortController();
  const onAbort = () => stop.abort(aborted(outer!));
  const onClose = () => stop.abort(new ProtocolError('POW_CLOSED', 'connection closed during PoW'));
  const disarm = armTimeout(stop, timeoutMs, 'PoW challenge');
  // While solving nobody reads, and a generic stream reports its end only to a reader (net.Socket does it
  // itself): read(0) takes nothing but lets 'end' through. Bytes the server sent early stay buffered.
  const onReadable = () => socket.read(0);
  outer?.addEventListener('abort', onAbort, { once: true });
  if (outer?.aborted) onAbort();
  socket.once('close', onClose);
  try {
    const challenge = await readExactly(socket, CHALLENGE_BYTES, stop.signal, 'PoW challenge');
    disarm();
    const magic = challenge.readUInt32LE(0);
    if (magic !== POW_CHALLENGE_MAGIC) {
      throw new ProtocolError(
        'POW_BAD_MAGIC',
        `bad PoW challenge magic 0x${magic.toString(16).padStart(8, '0')}`,
      );
    }
    const difficulty = challenge.readInt32LE(4);
    if (difficulty < 0 || difficulty > max) throw tooHard(difficulty, max);
    let nonce: bigint;
    socket.on('readable', onReadable);
    socket.once('end', onClose);
    try {
      nonce = await solvePow(challenge.subarray(8, 24), difficulty, {
        signal: stop.signal,
        maxDifficulty: max,
      });
    } catch (err) {
      // The solver only sees one signal; report why it fired.
      if (stop.signal.aborted && stop.signal.reason instanceof ProtocolError) throw stop.signal.reason;
      throw err;
    }
    if (socket.destroyed) throw new ProtocolError('POW_CLOSED', 'connection closed during PoW');
    const answer = Buffer.alloc(ANSWER_BYTES);
    answer.writeUInt32LE(POW_ANSWER_MAGIC, 0);
    answer.writeBigInt64LE(nonce, 4);
    socket.write(answer);
    return { difficulty, nonce };
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    disarm();
    outer?.removeEventListener('abort', onAbort);
    socket.off('close', onClose);
    socket.off('end', onClose);
    socket.off('readable', onReadable);
  }
}

/** Aborts `ctl` with `POW_TIMEOUT` after `ms` (0 disables); returns the function that cancels that. */
function armTimeout(ctl: AbortController, ms: number, what: string): () => void {
  if (ms <= 0) return () => {};
  const timer = setTimeout(
    () => ctl.abort(new ProtocolError('POW_TIMEOUT', `no ${what} within ${ms} ms`)),
    ms,
  );
  return () => clearTimeout(timer);
}

function tooHard(difficulty: number, max: number): ProtocolError {
  return new ProtocolError('POW_TOO_HARD', `PoW difficulty ${difficulty} is outside 0..${max}`);
}

function aborted(signal: AbortSignal): ProtocolError {
  return new ProtocolError('POW_ABORTED', 'PoW aborted', { cause: signal.reason });
}

/**
 * Reads exactly `n` bytes in paused mode, so nothing past them is taken from the stream: whatever follows
 * stays buffered for the next reader (a TLS socket wrapping this one picks it up).
 */
function readExactly(stream: Duplex, n: number, signal: AbortSignal, what: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const closed = (cause?: unknown) =>
      new ProtocolError('POW_CLOSED', `connection closed before the ${what}`, { cause });
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown) => {
      cleanup();
      reject(err);
    };
    const onReadable = () => {
      const chunk = stream.read(n) as Buffer | null;
      if (chunk === null) return;
      // A short read happens only at the end of the stream.
      if (chunk.length < n) return fail(closed());
      cleanup();
      resolve(chunk);
    };
    const onEnd = () => fail(closed());
    const onError = (err: Error) => fail(closed(err));
    const onAbort = () => fail(signal.reason);
    if (signal.aborted) return onAbort();
    if (stream.destroyed || stream.readableEnded) return fail(closed());
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    onReadable();
  });
}
