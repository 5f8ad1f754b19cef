// Types of pow-solver.worker.cjs, which stays plain JavaScript so that it runs as a worker without tsx.

export interface PowWorkerData {
  salt: Uint8Array;
  difficulty: number;
  index: number;
  threads: number;
  shared: SharedArrayBuffer;
  kind?: 'cocoon-pow';
}

export interface PowWorkerResult {
  nonce: bigint;
  tries: number;
}

export const POW_CHUNK: number;
export function powPrecompute(salt: Uint8Array): Int32Array;
export function powScan(
  pre: Int32Array,
  hi: number,
  lo: number,
  step: number,
  count: number,
  mask: number,
  out: Int32Array,
): number;
export function powLeadingZeros(h0: number, h1: number): number;
export function powMaskH1(difficulty: number): number;
export function powHashPrefix(salt: Uint8Array, nonce: bigint): Uint8Array;
export function powSearch(data: PowWorkerData): PowWorkerResult | undefined;
