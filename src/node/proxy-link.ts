// How clients and workers hold their connections to proxies (cocoon-reference.md §5, ProxyTarget): each slot
// dials a proxy from the root config over PoW + RA-TLS, checks its attestation and image hash, runs the role's
// handshake, and on any failure or disconnect dials again with backoff — moving to another proxy after a few
// failures in a row, and never holding two slots to the same proxy.

import { EventEmitter } from 'node:events';
import { CocoonError, ProtocolError } from '../errors.ts';
import { Connection, type QueryHandler } from '../net/connection.ts';
import { ratlsConnect } from '../net/ratls.ts';
import type { AttestationVerifier, PeerAttestation } from '../tee/policy.ts';
import type { TlConstructors } from '../tl/cocoon-api.gen.ts';
import { proxyScAddress } from './addresses.ts';
import type { NodeIdentity } from './identity.ts';
import type { RootConfig, RootWatcher } from './root-config.ts';
import { PROTO_MAX, PROTO_MIN } from './rpc.ts';

/** One handshaken connection to a proxy. */
export interface ProxySession {
  conn: Connection;
  /** The proxy's address as the root lists it (`host:port`). */
  address: string;
  peer: PeerAttestation;
  onMessage(data: Uint8Array): void;
}

export interface ProxyLinksOptions<S extends ProxySession> {
  root: RootWatcher;
  /** Which of the proxy's two addresses to dial. */
  side: 'workers' | 'clients';
  /** How many distinct proxies to hold (default 1). */
  count?: number;
  identity: NodeIdentity;
  verifier: AttestationVerifier;
  /** Require the proxy's image hash in the root's proxy hashes (default true). */
  checkHashes?: boolean;
  maxPowDifficulty?: number;
  /** Runs the role's handshake on a fresh connection; throwing drops it. */
  handshake: (conn: Connection, peer: PeerAttestation, address: string) => Promise<S>;
  /** Answers the proxy's queries (cocoon_ext.tl ones; the reference's proxy sends none). */
  onQuery?: QueryHandler;
  /** Failures in a row before a slot moves to another proxy (default 3). */
  switchAfter?: number;
  log?: (line: string) => void;
}

export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CocoonError('BAD_ADDRESS', `not host:port: ${address}`);
  }
  return { host, port };
}

type Events<S> = { ready: [S]; down: [S, Error | undefined] };

export class ProxyLinks<S extends ProxySession> extends EventEmitter<Events<S>> {
  private readonly slots: ({ session: S | undefined; address: string | undefined } | undefined)[] = [];
  private readonly abort = new AbortController();
  private closed = false;
  lastError: Error | undefined;

  constructor(private readonly opts: ProxyLinksOptions<S>) {
    super();
  }

  /** The handshaken sessions, in slot order. */
  sessions(): S[] {
    return this.slots.flatMap((s) => (s?.session && !s.session.conn.isClosed ? [s.session] : []));
  }

  /** The first ready session (requests always use it, as the reference). */
  first(): S | undefined {
    return this.sessions()[0];
  }

  /** Resolves with a ready session, waiting up to `timeoutMs` for one. */
  waitReady(timeoutMs: number): Promise<S> {
    const s = this.first();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(
          new ProtocolError(
            'NOT_READY',
            `no proxy connection is ready${this.lastError ? ` (last error: ${this.lastError.message})` : ''}`,
          ),
        );
      }, timeoutMs);
      const onReady = (x: S) => {
        clearTimeout(timer);
        resolve(x);
      };
      this.once('ready', onReady);
    });
  }

  start(): void {
    for (let i = 0; i < (this.opts.count ?? 1); i++) {
      this.slots[i] = { session: undefined, address: undefined };
      void this.run(i);
    }
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    for (const s of this.slots) s?.session?.conn.close(new ProtocolError('SHUTDOWN', 'node stopping'));
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private choose(slot: number, current: string | undefined, failures: number): string | undefined {
    const all = this.opts.root.current.proxies.map((p) => p.address[this.opts.side]);
    if (all.length === 0) return undefined;
    const taken = new Set(this.slots.flatMap((s, i) => (i !== slot && s?.address ? [s.address] : [])));
    if (current && all.includes(current) && failures < (this.opts.switchAfter ?? 3) && !taken.has(current)) {
      return current;
    }
    const free = all.filter((a) => !taken.has(a) && (all.length === 1 || a !== current));
    const pool = free.length ? free : all.filter((a) => !taken.has(a));
    return pool[Math.floor(Math.random() * pool.length)];
  }

  private async run(slot: number): Promise<void> {
    let failures = 0;
    let delay = 200;
    let address: string | undefined;
    while (!this.closed) {
      address = this.choose(slot, address, failures);
      const state = this.slots[slot] as { session: S | undefined; address: string | undefined };
      state.address = address;
      if (address === undefined) {
        this.lastError = new ProtocolError('NO_PROXY', 'the root config lists no proxy');
      } else {
        try {
          const session = await this.connect(address);
          state.session = session;
          failures = 0;
          delay = 200;
          this.log(`connected to proxy ${address}`);
          this.emit('ready', session);
          const reason = await new Promise<Error | undefined>((resolve) =>
            session.conn.once('close', resolve),
          );
          state.session = undefined;
          if (this.closed) return;
          this.log(`proxy ${address} went away${reason ? `: ${reason.message}` : ''}`);
          this.emit('down', session, reason);
          continue; // dial again at once: the proxy may just have restarted
        } catch (err) {
          this.lastError = err instanceof Error ? err : new Error(String(err));
          failures++;
          this.log(`proxy ${address}: ${this.lastError.message}`);
        }
      }
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, 5000);
    }
  }

  private async connect(address: string): Promise<S> {
    const { host, port } = splitHostPort(address);
    const opts: Parameters<typeof ratlsConnect>[0] = {
      host,
      port,
      identity: this.opts.identity.holder,
      verifier: this.opts.verifier,
      signal: this.abort.signal,
    };
    if (this.opts.maxPowDifficulty !== undefined) opts.maxPowDifficulty = this.opts.maxPowDifficulty;
    const { socket, peer } = await ratlsConnect(opts);
    if (this.opts.checkHashes !== false && !this.opts.root.current.proxyHashes.includes(peer.imageHash)) {
      socket.destroy();
      throw new ProtocolError(
        'NOT_ALLOWED',
        `proxy image ${peer.imageHash} is not in the root's proxy hashes`,
      );
    }
    let session: S | undefined;
    // Messages that arrive with the handshake's last answer wait until the session exists.
    const early: Uint8Array[] = [];
    const conn = new Connection(socket, {
      role: 'dialer',
      name: `proxy ${address}`,
      onMessage: (data) => (session ? session.onMessage(data) : early.push(Uint8Array.from(data))),
      ...(this.opts.onQuery ? { onQuery: this.opts.onQuery } : {}),
    });
    try {
      await conn.ready();
      session = await this.opts.handshake(conn, peer, address);
      if (conn.isClosed)
        throw conn.closeReason ?? new ProtocolError('CONNECTION_CLOSED', 'closed in handshake');
      for (const m of early.splice(0)) session.onMessage(m);
      return session;
    } catch (err) {
      conn.close(err instanceof CocoonError ? err : new ProtocolError('HANDSHAKE_FAILED', String(err)));
      throw err;
    }
  }
}

/**
 * What a client or worker checks of the proxy's params in its handshake: the same test/production mode, a
 * protocol version this side speaks, the signing key of its certificate, and the proxy contract address derived
 * here (when derivable). Returns that address.
 */
export function checkProxyParams(
  p: TlConstructors['proxy.params'] | Omit<TlConstructors['proxy.params'], '_'>,
  peer: PeerAttestation,
  root: RootConfig,
): string {
  const fail = (msg: string) => new ProtocolError('HANDSHAKE_FAILED', msg);
  if (p.is_test !== root.params.isTest) throw fail('test/production mismatch');
  if ((p.proto_version ?? 0) < PROTO_MIN || (p.proto_version ?? 0) > PROTO_MAX) {
    throw fail(`proxy chose protocol ${p.proto_version}`);
  }
  if (!Buffer.from(p.proxy_public_key).equals(Buffer.from(peer.publicKey))) {
    throw fail('the proxy signs with another key than its certificate');
  }
  const proxySc = proxyScAddress(root, p.proxy_owner_address, p.proxy_public_key);
  if (proxySc !== p.proxy_sc_address) throw fail(`proxy contract ${p.proxy_sc_address}, expected ${proxySc}`);
  return proxySc;
}
