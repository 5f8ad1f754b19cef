// Structured logs: one JSON object per line (pino), with the node's role and, for requests, the ids that follow a
// request across nodes — the client's `request` id is the proxy's, and the proxy's `worker_request` id is the
// worker's — so `grep` on one id finds its whole path. The level comes from --log-level or COCOON_LOG_LEVEL.

import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A node's logger writing JSON lines to `destination` (default stderr). */
export function nodeLogger(opts: { role: string; level?: string; destination?: DestinationStream }): Logger {
  const level = opts.level ?? process.env.COCOON_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new TypeError(`log level must be one of ${LOG_LEVELS.join(', ')}, not ${level}`);
  }
  return pino({ level, base: { node: opts.role } }, opts.destination ?? pino.destination(2));
}

/** A logger that writes nothing (library use, tests). */
export const silentLogger: Logger = pino({ level: 'silent' });

/** The short form of a 256-bit request id used in logs (its first 16 hex digits). */
export const shortId = (hex: string): string => hex.slice(0, 16);
