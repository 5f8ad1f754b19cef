import { constants as cryptoConstants } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { AttestationError, CocoonError, ProtocolError } from '../errors.ts';
import type { RatlsIdentity } from '../tee/cert.ts';
import { attestationError } from '../tee/errors.ts';
import type { AttestationVerifier, PeerAttestation } from '../tee/policy.ts';
import { DEFAULT_MAX_POW_DIFFICULTY, DEFAULT_POW_DIFFICULTY, powAccept, powConnect } from './pow.ts';

/** TLS 1.3 only, the reference's two suites, no tickets (so no resumption), cocoon-reference.md §10.1. */
function secureContext(identity: RatlsIdentity): tls.SecureContext {
  return tls.createSecureContext({
    key: identity.keyPem,
    cert: identity.certPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384',
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
  });
}

/** Holds a node's current identity and its TLS context; swapping it affects new connections only. */
export class IdentityHolder {
  private current: RatlsIdentity;
  private ctx: tls.SecureContext;

  constructor(identity: RatlsIdentity) {
    this.current = identity;
    this.ctx = secureContext(identity);
  }

  get identity(): RatlsIdentity {
    return this.current;
  }

  get context(): tls.SecureContext {
    return this.ctx;
  }

  /** Installs a refreshed certificate; live connections keep the one they were made with. */
  set(identity: RatlsIdentity): void {
    this.ctx = secureContext(identity);
    this.current = identity;
    for (const l of this.listeners) l(identity);
  }

  private readonly listeners: ((identity: RatlsIdentity) => void)[] = [];

  /** Calls `listener` with every certificate installed from now on (to tell peers of live connections). */
  onChange(listener: (identity: RatlsIdentity) => void): void {
    this.listeners.push(listener);
  }
}

/** Verifies the peer certificate of a finished handshake before any application byte is read or written. */
async function attest(
  sock: tls.TLSSocket,
  verifier: AttestationVerifier,
  now: () => Date,
): Promise<PeerAttestation> {
  if (sock.isSessionReused()) throw attestationError('SESSION_RESUMED');
  // Read synchronously in the secure event: a TLS 1.3 client loses the peer certificate once a ticket arrives.
  const cert = sock.getPeerX509Certificate();
  if (!cert) throw attestationError('CERT_INVALID', 'the peer presented no certificate');
  return verifier.verifyCertificate(new Uint8Array(cert.raw), now());
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  if (ms <= 0) return p;
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new ProtocolError('TIMEOUT', `RA-TLS handshake not done in ${ms} ms`));
      }, ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Closes a connection. Once TLS wraps the raw socket, the TLS socket owns its handle: destroying both (in
 * either order) closes the handle twice, which crashes Node 20 (SIGSEGV), so only the outermost is destroyed.
 */
function closeSockets(raw: net.Socket, tlsSock: tls.TLSSocket | undefined): void {
  if (tlsSock) tlsSock.destroy();
  else raw.destroy();
}

function asCocoonError(err: unknown): CocoonError {
  if (err instanceof CocoonError) return err;
  return new ProtocolError('TLS_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
}

export interface RatlsServerOptions {
  identity: IdentityHolder;
  verifier: AttestationVerifier;
  /** PoW bits demanded before TLS (default 20; 0 sends a zero-bit challenge, which any nonce solves). */
  powDifficulty?: number;
  /** PoW + TLS + attestation must finish within this (default 30 s). */
  handshakeTimeoutMs?: number;
  now?: () => Date;
}

export interface RatlsServerEvents {
  /** A peer passed PoW, TLS and attestation; the socket is paused and untouched. */
  connection: [socket: tls.TLSSocket, peer: PeerAttestation];
  /** A peer failed; its socket is already destroyed. */
  reject: [err: CocoonError, remote: string];
}

/**
 * The accepting side of an RA-TLS port: PoW gate, then TLS 1.3 with mutual RA-TLS certificates, then the peer's
 * attestation checked against the policy, all before the runner sees a byte.
 *
 * @example
 * const server = new RatlsServer({ identity, verifier: new AttestationVerifier({ kind: 'tdx', ... }) });
 * server.on('connection', (sock, peer) => new Connection(sock, { role: 'acceptor' }));
 * await server.listen(11001, '0.0.0.0');
 */
export class RatlsServer extends EventEmitter<RatlsServerEvents> {
  readonly stats = { accepted: 0, rejected: 0, rejectedByCode: {} as Record<string, number> };
  private readonly server: net.Server;
  private readonly pending = new Set<net.Socket>();

  constructor(private readonly opts: RatlsServerOptions) {
    super();
    this.server = net.createServer((raw) => {
      this.accept(raw);
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting and drops handshakes in progress; established connections are the caller's. */
  close(): Promise<void> {
    for (const s of this.pending) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(raw: net.Socket): void {
    const remote = `${raw.remoteAddress}:${raw.remotePort}`;
    this.pending.add(raw);
    raw.on('error', () => {});
    // Answers stream as many small frames: Nagle's algorithm would hold each behind the previous one's ACK.
    raw.setNoDelay(true);
    let tlsSock: tls.TLSSocket | undefined;
    const run = async (): Promise<[tls.TLSSocket, PeerAttestation]> => {
      await powAccept(raw, { difficulty: this.opts.powDifficulty ?? DEFAULT_POW_DIFFICULTY, timeoutMs: 0 });
      const sock = new tls.TLSSocket(raw, {
        isServer: true,
        secureContext: this.opts.identity.context,
        requestCert: true,
        rejectUnauthorized: false,
      });
      tlsSock = sock;
      sock.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        sock.once('secure', resolve);
        sock.once('error', reject);
        sock.once('close', () =>
          reject(new ProtocolError('CONNECTION_CLOSED', 'closed during the TLS handshake')),
        );
      });
      const peer = await attest(sock, this.opts.verifier, this.opts.now ?? (() => new Date()));
      return [sock, peer];
    };
    withTimeout(run(), this.opts.handshakeTimeoutMs ?? 30_000, () => {
      closeSockets(raw, tlsSock);
    }).then(
      ([sock, peer]) => {
        this.pending.delete(raw);
        this.stats.accepted++;
        sock.removeAllListeners('error');
        this.emit('connection', sock, peer);
      },
      (err: unknown) => {
        this.pending.delete(raw);
        const e = asCocoonError(err);
        this.stats.rejected++;
        this.stats.rejectedByCode[e.code] = (this.stats.rejectedByCode[e.code] ?? 0) + 1;
        closeSockets(raw, tlsSock);
        this.emit('reject', e, remote);
      },
    );
  }
}

export interface RatlsConnectOptions {
  host: string;
  port: number;
  identity: IdentityHolder;
  verifier: AttestationVerifier;
  /** The most PoW bits this side will solve (default 28). */
  maxPowDifficulty?: number;
  /** PoW + TLS + attestation must finish within this (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

/**
 * Dials an RA-TLS port: PoW, TLS 1.3 with our certificate, then the server's attestation checked before a byte
 * is written. The socket comes back paused. The server may still refuse our certificate after this resolves
 * (TLS 1.3 client auth is asynchronous): the first message from the server is the real confirmation.
 *
 * @example
 * const { socket, peer } = await ratlsConnect({ host, port: 11002, identity, verifier });
 * const conn = new Connection(socket, { role: 'dialer' });
 */
export async function ratlsConnect(
  opts: RatlsConnectOptions,
): Promise<{ socket: tls.TLSSocket; peer: PeerAttestation }> {
  const raw = net.connect({ host: opts.host, port: opts.port, noDelay: true });
  raw.on('error', () => {});
  let tlsSock: tls.TLSSocket | undefined;
  const abort = () => {
    closeSockets(raw, tlsSock);
  };
  opts.signal?.addEventListener('abort', abort, { once: true });
  const run = async (): Promise<{ socket: tls.TLSSocket; peer: PeerAttestation }> => {
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', resolve);
      raw.once('error', (err) => reject(new ProtocolError('CONNECT_FAILED', err.message, { cause: err })));
    });
    const powOpts: Parameters<typeof powConnect>[1] = {
      maxDifficulty: opts.maxPowDifficulty ?? DEFAULT_MAX_POW_DIFFICULTY,
      timeoutMs: 0,
    };
    if (opts.signal) powOpts.signal = opts.signal;
    await powConnect(raw, powOpts);
    const sock = tls.connect({
      socket: raw,
      secureContext: opts.identity.context,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    tlsSock = sock;
    sock.on('error', () => {});
    // The certificate must be taken inside the secureConnect handler itself (gotcha: it disappears later).
    const certDer = await new Promise<Uint8Array | undefined>((resolve, reject) => {
      sock.once('secureConnect', () => {
        const c = sock.getPeerX509Certificate();
        resolve(c ? new Uint8Array(c.raw) : undefined);
      });
      sock.once('error', (err) => reject(new ProtocolError('TLS_FAILED', err.message, { cause: err })));
      sock.once('close', () =>
        reject(new ProtocolError('CONNECTION_CLOSED', 'closed during the TLS handshake')),
      );
    });
    if (sock.isSessionReused()) throw attestationError('SESSION_RESUMED');
    if (!certDer) throw attestationError('CERT_INVALID', 'the server presented no certificate');
    const peer = await opts.verifier.verifyCertificate(certDer, (opts.now ?? (() => new Date()))());
    sock.removeAllListeners('error');
    return { socket: sock, peer };
  };
  try {
    return await withTimeout(run(), opts.timeoutMs ?? 30_000, abort);
  } catch (err) {
    abort();
    if (err instanceof AttestationError || err instanceof CocoonError) throw err;
    throw asCocoonError(err);
  } finally {
    opts.signal?.removeEventListener('abort', abort);
  }
}

/**
 * Re-issues the node's certificate (and its quote) before it expires — every `intervalMs` (default one hour, as
 * the reference) or sooner when less than `marginMs` of validity is left. New connections get the new
 * certificate; live ones keep theirs.
 *
 * @example
 * const refresher = new IdentityRefresher(holder, () => createRatlsIdentity({ privateKey, quoteSource }));
 * refresher.start();
 */
export class IdentityRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  refreshed = 0;
  lastError: unknown;

  constructor(
    private readonly holder: IdentityHolder,
    private readonly issue: () => Promise<RatlsIdentity>,
    private readonly opts: { intervalMs?: number; marginMs?: number; now?: () => Date } = {},
  ) {}

  /** Whether the current certificate should be replaced now. */
  due(): boolean {
    const now = (this.opts.now ?? (() => new Date()))().getTime();
    const id = this.holder.identity;
    const interval = this.opts.intervalMs ?? 3_600_000;
    const margin = this.opts.marginMs ?? 600_000;
    return now >= id.notBefore.getTime() + interval || now >= id.notAfter.getTime() - margin;
  }

  /** Issues a new certificate at once. */
  refresh(): Promise<void> {
    this.running ??= this.issue()
      .then((id) => {
        this.holder.set(id);
        this.refreshed++;
      })
      .catch((err: unknown) => {
        // Keep serving the old certificate; the next tick tries again.
        this.lastError = err;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  start(checkEveryMs = 30_000): void {
    this.timer ??= setInterval(() => {
      if (this.due()) void this.refresh();
    }, checkEveryMs).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
