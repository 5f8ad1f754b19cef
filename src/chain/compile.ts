import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cell } from '@ton/core';
import { CocoonError } from '../errors.ts';

/** The Tolk contracts that ship with Cocoon. */
export const CONTRACTS_DIR = fileURLToPath(new URL('../../contracts/', import.meta.url));

export type ContractName = 'root' | 'wallet' | 'worker' | 'proxy' | 'client';

const cache = new Map<string, Promise<Cell>>();

/**
 * Compiles a Tolk contract in-process (the compiler is WebAssembly inside @ton/tolk-js) and caches the code cell
 * for the life of the process.
 *
 * @example
 * const code = await compileContract('root');
 */
export function compileContract(name: ContractName): Promise<Cell> {
  let p = cache.get(name);
  if (!p) {
    p = compileTolk(resolve(CONTRACTS_DIR, `${name}.tolk`));
    cache.set(name, p);
  }
  return p;
}

/** Compiles a Tolk entry file; imports resolve relative to it. */
export async function compileTolk(file: string): Promise<Cell> {
  const { runTolkCompiler } = await import('@ton/tolk-js');
  const dir = dirname(file);
  const res = await runTolkCompiler({
    entrypointFileName: file.slice(dir.length + 1),
    fsReadCallback: (p: string) => readFileSync(resolve(dir, p), 'utf8'),
  });
  if (res.status !== 'ok') throw new CocoonError('CONTRACT_COMPILE', `${file}: ${res.message}`);
  return Cell.fromBase64(res.codeBoc64);
}
