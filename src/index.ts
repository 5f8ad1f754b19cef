/**
 * Cocoon (Confidential Compute Open Network) — the public API of the package, by name.
 * Layers: `tl` (wire format), `net` (frames, connections, PoW gate).
 */
export {
  CocoonError,
  errorCodeFromTon,
  ProtocolError,
  TlError,
  TonErrorCode,
  tonErrorCode,
} from './errors.ts';
export * from './net/index.ts';
export * from './tl/index.ts';
