import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CocoonError, errorCodeFromTon, ProtocolError, TonErrorCode, tonErrorCode } from '../errors.ts';
import { decodeTlAs, encodeTl } from '../tl/cocoon.ts';
import type { TlTypes } from '../tl/cocoon-api.gen.ts';
import { tlBytesSize } from '../tl/codec.ts';
import { FRAME_HEADER, FRAME_MAX, FrameDecoder, writeFrameHeader } from './frame.ts';

type TcpPacket = TlTypes['tcp.Packet'];

/** Which side of the connection this is: the dialer sends `tcp.connect` and pings, the acceptor answers. */
export type ConnectionRole = 'dialer' | 'acceptor';

/** What a query handler gets besides the query bytes. */
export interface QueryContext {
  /** The query id on the wire. */
  id: bigint;
  connection: Connection;
  /** Aborted when the connection closes: the answer can no longer be delivered. */
  signal: AbortSignal;
}

/** Answers one incoming `tcp.query`; a thrown {@link CocoonError} is answered as `tcp.queryError`. */
export type QueryHandler = (data: Uint8Array, ctx: QueryContext) => Promise<Uint8Array> | Uint8Array;

export interface ConnectionOptions {
  role: ConnectionRole;
  /** For logs and warnings. */
  name?: string;
  /** Send `tcp.ping` after this long without a received frame; 0 disables. Dialer 10 s, acceptor off. */
  pingIntervalMs?: number;
  /** Close after this long without a received frame; 0 disables. Dialer 20 s, acceptor 60 s. */
  idleTimeoutMs?: number;
  /** Close unless the `tcp.connect`/`tcp.connected` exchange completes in time; 0 disables. Default 20 s. */
  handshakeTimeoutMs?: number;
  /** Timeout of {@link Connection.query} without its own `timeoutMs`. Default 10 s. */
  defaultQueryTimeoutMs?: number;
  /** Answers incoming queries; without one every query gets a 601 error. */
  onQuery?: QueryHandler;
  /** Receives one-way messages (also emitted as `'message'`). */
  onMessage?: (data: Uint8Array) => void;
}

export interface QueryOptions {
  timeoutMs?: number;
  /** Aborting rejects the query with `CANCELLED`; a late answer is then counted as unknown. */
  signal?: AbortSignal;
}

/** Counters of one connection. `queriesAnswered` counts our queries that got an answer or an error back. */
export interface ConnectionStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  queriesSent: number;
  queriesAnswered: number;
  queryTimeouts: number;
  queriesReceived: number;
  pingsSent: number;
  pongsReceived: number;
  unknownAnswers: number;
  /**
   * Failures by error code: the close reason (when a {@link CocoonError}), errors our query handler answered
   * with, and `LISTENER_ERROR` for throwing listeners. Our own query timeouts are in `queryTimeouts`.
   */
  errors: Record<string, number>;
}

/** Events of a {@link Connection}. `close` carries the reason (`undefined` for a plain local close). */
export type ConnectionEvents = {
  ready: [];
  message: [data: Uint8Array];
  close: [reason: Error | undefined];
};

/**
 * The rejection of a query that the peer answered with `tcp.queryError`: `code` is
 * `errorCodeFromTon(tonCode)`, `message` the peer's message.
 *
 * @example
 * try { await conn.query(q) } catch (e) { if (e instanceof RemoteQueryError && e.tonCode === 652) retry() }
 */
export class RemoteQueryError extends ProtocolError {
  /** The TON error number the peer sent. */
  readonly tonCode: number;

  constructor(tonCode: number, message: string) {
    super(errorCodeFromTon(tonCode), message);
    this.tonCode = tonCode;
  }
}

interface PendingQuery {
  resolve: (data: Uint8Array) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const DEFAULTS = {
  dialer: { pingIntervalMs: 10_000, idleTimeoutMs: 20_000 },
  acceptor: { pingIntervalMs: 0, idleTimeoutMs: 60_000 },
} as const;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 20_000;
const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
/** setTimeout's ceiling; longer delays would fire at once. */
const MAX_DELAY_MS = 0x7fffffff;
/** Error messages sent to the peer are cut to this many characters. */
const MAX_ERROR_MESSAGE = 1024;

let connectionCount = 0;

function randomId(): bigint {
  return randomBytes(8).readBigInt64LE(0);
}

function duration(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0)
    throw new RangeError(`${name} must be ≥ 0, got ${v}`);
  return v;
}

function errorMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > MAX_ERROR_MESSAGE ? m.slice(0, MAX_ERROR_MESSAGE) : m;
}

/** Throws `FRAME_TOO_LARGE` before encoding when `data` (after `overhead` bytes of TL) cannot fit a frame. */
function checkFits(overhead: number, data: unknown): void {
  if (data instanceof Uint8Array && overhead + tlBytesSize(data.length) > FRAME_MAX) {
    throw new ProtocolError(
      'FRAME_TOO_LARGE',
      `${data.length} bytes of data do not fit a frame of at most ${FRAME_MAX} bytes`,
    );
  }
}

/**
 * One framed Cocoon connection over any duplex byte stream (TCP now, TLS later): the `tcp.connect` handshake,
 * one-way messages, queries with ids and timeouts, keep-alive pings and idle timeouts (cocoon-reference.md
 * §2.3). Bad input from the peer closes this connection with a typed {@link CocoonError} and never throws
 * out of a stream event. Received `data` is a view into the received bytes; copy it to keep it past the
 * callback if memory matters.
 *
 * @example
 * const conn = new Connection(net.connect(port, host), { role: 'dialer' });
 * await conn.ready();
 * const answer = await conn.query(encodeTl({ _: 'client.getWorkerTypes' }), { timeoutMs: 5000 });
 * conn.close();
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly role: ConnectionRole;
  readonly name: string;
  readonly stats: ConnectionStats = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    queriesSent: 0,
    queriesAnswered: 0,
    queryTimeouts: 0,
    queriesReceived: 0,
    pingsSent: 0,
    pongsReceived: 0,
    unknownAnswers: 0,
    errors: {},
  };
  /** Settles when the connection closes, with the close reason. */
  readonly closed: Promise<Error | undefined>;

  private readonly stream: Duplex;
  private readonly decoder = new FrameDecoder();
  private readonly pingIntervalMs: number;
  private readonly idleTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly defaultQueryTimeoutMs: number;
  private readonly onQuery: QueryHandler | undefined;
  private readonly onMessage: ((data: Uint8Array) => void) | undefined;
  private readonly pending = new Map<bigint, PendingQuery>();
  private readonly abort = new AbortController();
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private resolveClosed!: (reason: Error | undefined) => void;
  private state: 'handshake' | 'ready' | 'closed' = 'handshake';
  private reason: Error | undefined;
  private sendSeqno = 0;
  private connectId = 0n;
  private timer: NodeJS.Timeout | undefined;
  private readonly openedAt: number;
  private lastReceived: number;
  private lastPing = 0;
  private readPaused = false;

  constructor(stream: Duplex, opts: ConnectionOptions) {
    super();
    if (opts.role !== 'dialer' && opts.role !== 'acceptor') {
      throw new RangeError(`role must be 'dialer' or 'acceptor', got ${String(opts.role)}`);
    }
    this.stream = stream;
    this.role = opts.role;
    this.name = opts.name ?? `${opts.role}#${++connectionCount}`;
    const d = DEFAULTS[opts.role];
    this.pingIntervalMs = duration('pingIntervalMs', opts.pingIntervalMs, d.pingIntervalMs);
    this.idleTimeoutMs = duration('idleTimeoutMs', opts.idleTimeoutMs, d.idleTimeoutMs);
    this.handshakeTimeoutMs = duration(
      'handshakeTimeoutMs',
      opts.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );
    this.defaultQueryTimeoutMs = duration(
      'defaultQueryTimeoutMs',
      opts.defaultQueryTimeoutMs,
      DEFAULT_QUERY_TIMEOUT_MS,
    );
    this.onQuery = opts.onQuery;
    this.onMessage = opts.onMessage;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody has to call ready(); a failed handshake is reported through close as well.
    this.readyPromise.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.openedAt = performance.now();
    this.lastReceived = this.openedAt;

    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onStreamClose);
    stream.on('error', this.onStreamError);
    stream.on('drain', this.onDrain);

    if (stream.destroyed) {
      // Deferred so that the caller can attach its 'close' listener first.
      process.nextTick(this.onStreamClose);
      return;
    }
    if (this.role === 'dialer') {
      this.connectId = randomId();
      this.writePacket({ _: 'tcp.connect', id: this.connectId });
    }
    this.schedule();
  }

  /** True once the handshake is done and until the connection closes. */
  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** True once {@link close} ran, for whatever reason. */
  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Why the connection closed (`undefined` while open or after a plain local close). */
  get closeReason(): Error | undefined {
    return this.reason;
  }

  /** True while the stream's write buffer is over its high-water mark; see {@link drain}. */
  get writableNeedDrain(): boolean {
    return this.state !== 'closed' && this.stream.writableNeedDrain;
  }

  /** Bytes written but not yet taken by the peer (the stream's write buffer). */
  get bufferedBytes(): number {
    return this.state === 'closed' ? 0 : this.stream.writableLength;
  }

  /**
   * Resolves when the handshake is done; rejects with the close reason if the connection closes first.
   *
   * @example
   * await new Connection(socket, { role: 'acceptor' }).ready();
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Resolves once the stream's write buffer has drained (at once if it need not, or once closed).
   *
   * @example
   * for (const m of messages) { conn.send(m); if (conn.writableNeedDrain) await conn.drain(); }
   */
  drain(): Promise<void> {
    if (!this.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.on('close', done);
    });
  }

  /**
   * Sends a one-way `tcp.packet`. Throws `NOT_READY` before the handshake, `CONNECTION_CLOSED` after close,
   * `FRAME_TOO_LARGE` for data that cannot fit a frame (the connection stays usable).
   *
   * @example
   * conn.send(encodeTl(message)); // a boxed TL object the peer expects as a message
   */
  send(data: Uint8Array): void {
    this.checkUsable();
    checkFits(4, data);
    this.writePacket({ _: 'tcp.packet', data });
    this.stats.messagesOut++;
  }

  /**
   * Sends a `tcp.query` and resolves with the answer's data. Rejects with `TIMEOUT` (652) after `timeoutMs`,
   * `CANCELLED` when `signal` aborts, `CONNECTION_CLOSED` at once when the connection closes, `NOT_READY`
   * before the handshake, `FRAME_TOO_LARGE` for oversize data, or a {@link RemoteQueryError} for the peer's
   * `tcp.queryError`.
   *
   * @example
   * const answer = await conn.query(request, { timeoutMs: 2000 });
   */
  query(data: Uint8Array, opts?: QueryOptions): Promise<Uint8Array> {
    let timeoutMs: number;
    try {
      this.checkUsable();
      checkFits(12, data);
      timeoutMs = duration('timeoutMs', opts?.timeoutMs, this.defaultQueryTimeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = opts?.signal;
    if (signal?.aborted) {
      return Promise.reject(new ProtocolError('CANCELLED', 'query cancelled', { cause: signal.reason }));
    }
    let id = randomId();
    while (this.pending.has(id)) id = randomId();
    return new Promise<Uint8Array>((resolve, reject) => {
      const q: PendingQuery = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            if (this.pending.get(id) !== q) return;
            this.forget(id, q);
            this.stats.queryTimeouts++;
            reject(new ProtocolError('TIMEOUT', `query timed out after ${timeoutMs} ms`));
          },
          Math.min(timeoutMs, MAX_DELAY_MS),
        ),
        signal,
        onAbort: undefined,
      };
      if (signal) {
        q.onAbort = () => {
          if (this.pending.get(id) !== q) return;
          this.forget(id, q);
          reject(new ProtocolError('CANCELLED', 'query cancelled', { cause: signal.reason }));
        };
        signal.addEventListener('abort', q.onAbort, { once: true });
      }
      // Registered before writing: an in-memory peer may answer before write() returns.
      this.pending.set(id, q);
      try {
        this.writePacket({ _: 'tcp.query', id, data });
        this.stats.queriesSent++;
      } catch (err) {
        this.forget(id, q);
        reject(err);
      }
    });
  }

  /**
   * Closes the connection (idempotent): destroys the stream, at once rejects pending queries with
   * `CONNECTION_CLOSED`, aborts running query handlers' signals and emits `'close'` with `reason`.
   *
   * @example
   * conn.close(new ProtocolError('SHUTDOWN', 'node stopping'));
   */
  close(reason?: Error): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.reason = reason;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (reason instanceof CocoonError) this.countError(reason.code);
    const closedError = (): ProtocolError =>
      new ProtocolError(
        'CONNECTION_CLOSED',
        reason ? `connection closed: ${reason.message}` : 'connection closed',
        reason ? { cause: reason } : undefined,
      );
    const pending = [...this.pending];
    this.pending.clear();
    for (const [, q] of pending) {
      clearTimeout(q.timer);
      if (q.onAbort) q.signal?.removeEventListener('abort', q.onAbort);
      q.reject(closedError());
    }
    if (!wasReady) this.rejectReady(reason instanceof CocoonError ? reason : closedError());
    this.stream.destroy();
    this.resolveClosed(reason);
    this.abort.abort(closedError());
    try {
      this.emit('close', reason);
    } catch (err) {
      this.listenerFailed('close', err);
    }
  }

  private checkUsable(): void {
    if (this.state === 'ready') return;
    if (this.state === 'closed') {
      throw new ProtocolError('CONNECTION_CLOSED', 'connection is closed', { cause: this.reason });
    }
    throw new ProtocolError('NOT_READY', 'connection handshake not done');
  }

  private forget(id: bigint, q: PendingQuery): void {
    this.pending.delete(id);
    clearTimeout(q.timer);
    if (q.onAbort) q.signal?.removeEventListener('abort', q.onAbort);
  }

  private countError(code: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  private listenerFailed(what: string, err: unknown): void {
    this.countError('LISTENER_ERROR');
    process.emitWarning(`${this.name}: ${what} listener threw: ${errorMessage(err)}`, 'CocoonWarning');
  }

  /** Frames and writes one packet; the payload is encoded once behind a reserved header. */
  private writePacket(p: TcpPacket): void {
    const buf = encodeTl(p, { prefix: FRAME_HEADER });
    writeFrameHeader(buf, buf.length - FRAME_HEADER, this.sendSeqno);
    this.sendSeqno = (this.sendSeqno + 1) | 0;
    this.stats.framesOut++;
    this.stats.bytesOut += buf.length;
    if (!this.stream.write(buf) && !this.readPaused) {
      // Stop reading while the peer does not read: pongs and answers it provokes cannot pile up here.
      this.readPaused = true;
      this.stream.pause();
    }
  }

  private readonly onDrain = (): void => {
    if (this.readPaused && this.state !== 'closed') {
      this.readPaused = false;
      this.stream.resume();
    }
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === 'closed') return;
    try {
      this.stats.bytesIn += chunk.length;
      for (const frame of this.decoder.push(chunk)) {
        this.stats.framesIn++;
        this.lastReceived = performance.now();
        this.onFrame(frame.payload);
        // A handler may have closed it (a getter: TS would keep `state` narrowed across the call).
        if (this.isClosed) return;
      }
    } catch (err) {
      this.close(
        err instanceof CocoonError
          ? err
          : new ProtocolError('INTERNAL', `internal error: ${errorMessage(err)}`, { cause: err }),
      );
    }
  };

  private readonly onEnd = (): void => {
    this.close(new ProtocolError('CONNECTION_CLOSED', 'peer closed the connection'));
  };

  private readonly onStreamClose = (): void => {
    this.close(new ProtocolError('CONNECTION_CLOSED', 'stream closed'));
  };

  private readonly onStreamError = (err: Error): void => {
    this.close(new ProtocolError('STREAM_ERROR', `stream error: ${err.message}`, { cause: err }));
  };

  private onFrame(payload: Uint8Array): void {
    const p = decodeTlAs('tcp.Packet', payload);
    if (this.state === 'handshake') {
      this.onHandshake(p);
      return;
    }
    switch (p._) {
      case 'tcp.ping':
        this.writePacket({ _: 'tcp.pong', id: p.id });
        return;
      case 'tcp.pong':
        this.stats.pongsReceived++;
        return;
      case 'tcp.packet':
        this.stats.messagesIn++;
        this.deliver(p.data);
        return;
      case 'tcp.query':
        this.serve(p.id, p.data);
        return;
      case 'tcp.queryAnswer': {
        const q = this.answered(p.id);
        q?.resolve(p.data);
        return;
      }
      case 'tcp.queryError': {
        const q = this.answered(p.id);
        q?.reject(new RemoteQueryError(p.code, p.message));
        return;
      }
      case 'tcp.connect':
      case 'tcp.connected':
        throw new ProtocolError('PROTOVIOLATION', `unexpected ${p._} after the handshake`);
    }
  }

  private onHandshake(p: TcpPacket): void {
    if (this.role === 'acceptor') {
      if (p._ !== 'tcp.connect')
        throw new ProtocolError('PROTOVIOLATION', `expected tcp.connect, got ${p._}`);
      this.writePacket({ _: 'tcp.connected', id: p.id });
    } else {
      if (p._ !== 'tcp.connected') {
        throw new ProtocolError('PROTOVIOLATION', `expected tcp.connected, got ${p._}`);
      }
      if (p.id !== this.connectId) {
        throw new ProtocolError('PROTOVIOLATION', `tcp.connected echoes id ${p.id}, sent ${this.connectId}`);
      }
    }
    this.state = 'ready';
    // The next deadline is now the ping, which may come before the handshake deadline it replaces.
    this.schedule();
    this.resolveReady();
    try {
      this.emit('ready');
    } catch (err) {
      this.listenerFailed('ready', err);
    }
  }

  private answered(id: bigint): PendingQuery | undefined {
    const q = this.pending.get(id);
    if (q === undefined) {
      this.stats.unknownAnswers++;
      return undefined;
    }
    this.forget(id, q);
    this.stats.queriesAnswered++;
    return q;
  }

  private deliver(data: Uint8Array): void {
    try {
      this.onMessage?.(data);
    } catch (err) {
      this.listenerFailed('onMessage', err);
    }
    try {
      this.emit('message', data);
    } catch (err) {
      this.listenerFailed('message', err);
    }
  }

  private serve(id: bigint, data: Uint8Array): void {
    this.stats.queriesReceived++;
    const handler = this.onQuery;
    if (handler === undefined) {
      this.answerError(id, TonErrorCode.failure, 'no query handler');
      return;
    }
    let result: Promise<Uint8Array> | Uint8Array;
    try {
      result = handler(data, { id, connection: this, signal: this.abort.signal });
    } catch (err) {
      this.handlerFailed(id, err);
      return;
    }
    Promise.resolve(result).then(
      (answer) => {
        if (this.state === 'closed') return;
        try {
          checkFits(12, answer);
          this.writePacket({ _: 'tcp.queryAnswer', id, data: answer });
        } catch (err) {
          this.handlerFailed(id, err);
        }
      },
      (err: unknown) => this.handlerFailed(id, err),
    );
  }

  private handlerFailed(id: bigint, err: unknown): void {
    if (this.state === 'closed') return;
    this.countError(err instanceof CocoonError ? err.code : 'HANDLER_ERROR');
    // A relayed remote error keeps the peer's number rather than collapsing to 601.
    const code = err instanceof RemoteQueryError ? err.tonCode : tonErrorCode(err);
    // Only our own typed errors describe themselves to the peer: an unexpected exception may carry internals
    // (paths, request contents) that must not leave a confidential node.
    this.answerError(id, code, err instanceof CocoonError ? errorMessage(err) : 'internal error');
  }

  private answerError(id: bigint, code: number, message: string): void {
    try {
      this.writePacket({ _: 'tcp.queryError', id, code: code | 0, message });
    } catch (err) {
      this.close(err instanceof CocoonError ? err : new ProtocolError('INTERNAL', errorMessage(err)));
    }
  }

  /** Arms the one timer for the nearest of: handshake deadline, idle deadline, next ping. */
  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state === 'closed') return;
    let next = Number.POSITIVE_INFINITY;
    if (this.state === 'handshake' && this.handshakeTimeoutMs > 0) {
      next = this.openedAt + this.handshakeTimeoutMs;
    }
    if (this.idleTimeoutMs > 0) next = Math.min(next, this.lastReceived + this.idleTimeoutMs);
    if (this.state === 'ready' && this.pingIntervalMs > 0) {
      next = Math.min(next, Math.max(this.lastReceived, this.lastPing) + this.pingIntervalMs);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(next - performance.now())));
    this.timer = setTimeout(this.onTimer, delay);
    // Keep-alive alone must not keep the process alive; the stream does that while it is open.
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.state === 'closed') return;
    const now = performance.now();
    if (
      this.state === 'handshake' &&
      this.handshakeTimeoutMs > 0 &&
      now - this.openedAt >= this.handshakeTimeoutMs
    ) {
      this.close(new ProtocolError('HANDSHAKE_TIMEOUT', `no handshake within ${this.handshakeTimeoutMs} ms`));
      return;
    }
    if (this.idleTimeoutMs > 0 && now - this.lastReceived >= this.idleTimeoutMs) {
      this.close(new ProtocolError('IDLE_TIMEOUT', `nothing received for ${this.idleTimeoutMs} ms`));
      return;
    }
    if (
      this.state === 'ready' &&
      this.pingIntervalMs > 0 &&
      now - Math.max(this.lastReceived, this.lastPing) >= this.pingIntervalMs
    ) {
      this.lastPing = now;
      this.writePacket({ _: 'tcp.ping', id: randomId() });
      this.stats.pingsSent++;
    }
    this.schedule();
  };
}
