/**
 * Cocoon (Confidential Compute Open Network) — the public API of the package, by name.
 * Layers: `tl` (wire format), `net` (frames, connections, PoW gate).
 */
export { CocoonError, ProtocolError, TlError, TonErrorCode, tonErrorCode, errorCodeFromTon } from './errors.ts';
export * from './net/index.ts';
export * from './tl/index.ts';
