/**
 * One error base for the whole project. Every failure carries a stable string `code`; each layer has its own
 * subclass. Codes map to TON error numbers on the wire in exactly one place ({@link tonErrorCode}).
 *
 * @example
 * try { decode(buf) } catch (e) { if (e instanceof TlError && e.code === 'TL_TRUNCATED') … }
 */
export class CocoonError extends Error {
  /** Stable machine-readable code, e.g. `TL_TRUNCATED`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Malformed TL: truncated input, unknown constructor, trailing bytes, bad length, value out of range. */
export class TlError extends CocoonError {}

/** Transport and protocol failures: bad frames, seqno mismatch, timeouts, closed or not-ready connections. */
export class ProtocolError extends CocoonError {}

/**
 * Attestation failures: a malformed or unsupported quote, a broken signature chain, revoked or expired collateral,
 * a REPORTDATA that binds another key, a debug TD, a measurement not on an allowlist. Each way to fail has its own
 * stable code (see `src/tee/errors.ts` for the list).
 */
export class AttestationError extends CocoonError {}

/**
 * Inference engine failures: an engine unreachable, timing out, answering an HTTP error, or sending a body that
 * is not SSE / JSON; the embedded model failing to load or run. Each closes that one request.
 */
export class EngineError extends CocoonError {}

/**
 * End-to-end sealing failures: a bad key, an unsupported suite, a sealed request or answer that does not open
 * (forged, reordered or addressed to another worker), an answer cut short, or a request that must be sealed and
 * cannot be. Codes start with `SEAL_`.
 */
export class SealError extends CocoonError {}

/**
 * TON error numbers used across the protocol (cocoon-reference.md §2.3).
 */
export const TonErrorCode = {
  failure: 601,
  error: 602,
  warning: 603,
  protoviolation: 621,
  notready: 651,
  timeout: 652,
  cancelled: 653,
} as const;

const codeToTon: Record<string, number> = {
  NOT_READY: TonErrorCode.notready,
  CONNECTION_CLOSED: TonErrorCode.cancelled,
  TIMEOUT: TonErrorCode.timeout,
  IDLE_TIMEOUT: TonErrorCode.timeout,
  HANDSHAKE_TIMEOUT: TonErrorCode.timeout,
  CANCELLED: TonErrorCode.cancelled,
  PROTOVIOLATION: TonErrorCode.protoviolation,
  BAD_SEQNO: TonErrorCode.protoviolation,
  FRAME_TOO_LARGE: TonErrorCode.protoviolation,
  FRAME_TOO_SMALL: TonErrorCode.protoviolation,
};

/** The TON error number to send on the wire for an error (601 "failure" for anything without its own). */
export function tonErrorCode(err: unknown): number {
  if (err instanceof TlError) return TonErrorCode.protoviolation;
  if (err instanceof CocoonError) return codeToTon[err.code] ?? TonErrorCode.failure;
  return TonErrorCode.failure;
}

/** The error code name for a TON error number received from a peer. */
export function errorCodeFromTon(n: number): string {
  switch (n) {
    case TonErrorCode.notready:
      return 'NOT_READY';
    case TonErrorCode.timeout:
      return 'TIMEOUT';
    case TonErrorCode.cancelled:
      return 'CANCELLED';
    case TonErrorCode.protoviolation:
      return 'PROTOVIOLATION';
    default:
      return 'REMOTE_ERROR';
  }
}

/** A receipt that does not parse or verify. */
export class ReceiptError extends CocoonError {}
