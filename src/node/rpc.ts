// Typed TL calls over a Connection: a function out, its result type back; incoming queries dispatched by
// constructor name; and the error codes the three runners use on the wire.

import { CocoonError, ProtocolError, TonErrorCode } from '../errors.ts';
import type { Connection, QueryContext, QueryHandler } from '../net/connection.ts';
import { decodeTl, decodeTlResult, encodeTl } from '../tl/cocoon.ts';
import type { TlAny, TlFunctionResults, TlFunctions } from '../tl/cocoon-api.gen.ts';

/**
 * Error codes in `*Ex` answers. The TON numbers (651 not ready, 652 timeout, 621 protocol violation, 601 failure)
 * are what reference peers understand; the HTTP-like ones below are Cocoon's own, so a client can answer the app
 * with the right status (a reference client shows them as a 500 with the message).
 */
export const ANSWER_ERROR = {
  ...TonErrorCode,
  badRequest: 400,
  insufficientFunds: 402,
  unknownModel: 404,
  overloaded: 429,
} as const;

/** Protocol versions this implementation speaks: 1 (the `*Ex` answers) and 2 (timings in final info). */
export const PROTO_MIN = 1;
export const PROTO_MAX = 2;

/**
 * Set in the flags of client.params, proxy.params and worker.params by nodes that speak cocoon_ext.tl (sealed
 * requests, the worker catalogue). Reference nodes ignore unknown flag bits and never see an extension.
 */
export const EXT_FLAG = 1 << 30;

/** Handshake queries (cocoon-reference.md §8: 30 s). */
export const HANDSHAKE_QUERY_MS = 30_000;

/**
 * Calls a TL function and decodes its result as the type the schema says it returns.
 *
 * @example
 * const r = await call(conn, { _: 'client.getWorkerTypesV2' }, 10_000);
 */
export async function call<K extends keyof TlFunctions>(
  conn: Connection,
  fn: TlFunctions[K] & { _: K },
  timeoutMs = HANDSHAKE_QUERY_MS,
): Promise<TlFunctionResults[K]> {
  const answer = await conn.query(encodeTl(fn), { timeoutMs });
  return decodeTlResult(fn._, answer);
}

/**
 * Decodes one incoming message; bytes that are not one closes the connection with the decoder's typed error and
 * give undefined.
 */
export function decodeMessage(conn: Connection, data: Uint8Array): TlAny | undefined {
  try {
    return decodeTl(data);
  } catch (err) {
    conn.close(err instanceof CocoonError ? err : new ProtocolError('PROTOVIOLATION', String(err)));
    return undefined;
  }
}

/** Sends one TL object as a one-way message. */
export function sendTl(conn: Connection, obj: TlAny): void {
  conn.send(encodeTl(obj));
}

export type Handlers = {
  [K in keyof TlFunctions]?: (
    q: TlFunctions[K],
    ctx: QueryContext,
  ) => Promise<TlFunctionResults[K]> | TlFunctionResults[K];
};

/**
 * A query handler that decodes each query and runs the handler for its function; anything else is answered with
 * a protocol violation (and the connection stays up: the peer asked for something we do not serve).
 */
export function dispatchQueries(handlers: Handlers): QueryHandler {
  return async (data, ctx) => {
    const q = decodeTl(data);
    const h = (handlers as Record<string, ((q: TlAny, ctx: QueryContext) => unknown) | undefined>)[q._];
    if (!h) throw new ProtocolError('PROTOVIOLATION', `unexpected query ${q._}`);
    return encodeTl((await h(q, ctx)) as TlAny);
  };
}

/** Negotiates a protocol version with a peer that speaks `min..max`; undefined when there is no overlap. */
export function negotiate(min: number, max: number): number | undefined {
  const v = Math.min(max, PROTO_MAX);
  return v >= Math.max(min, PROTO_MIN) ? v : undefined;
}

/** Hex of a request id, for maps and logs. */
export const idHex = (id: Uint8Array): string => Buffer.from(id).toString('hex');

/** Seconds since the epoch with microsecond resolution (the X-Cocoon-* headers and final-info times). */
export const unixTime = (): number => (performance.timeOrigin + performance.now()) / 1000;
