// DCAP collateral from files and folders on disk (the rest of collateral.ts runs in a browser too).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CollateralPart,
  classifyCollateralDocument,
  mergeCollateral,
  quotePlatform,
} from './collateral.ts';
import { attestationError } from './errors.ts';
import type { Collateral, TdxQuote } from './types.ts';

/**
 * Loads collateral from files and folders (Phala JSON, PCS bodies, DER CRLs, PEM issuer chains; unrecognised
 * files in a folder are skipped). Later paths override earlier ones. `quote` picks the TCB Info for its FMSPC.
 *
 * @example
 * const c = loadCollateral(['phala.json', 'sample_tcbinfo_response_v5'], quote);
 */
export function loadCollateral(paths: string[], quote?: TdxQuote): Collateral {
  const parts: CollateralPart[] = [];
  for (const path of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch (err) {
      throw attestationError('COLLATERAL_MALFORMED', `cannot read ${path}`, err);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        const file = join(path, name);
        if (!statSync(file).isFile()) continue;
        const part = classifyCollateralDocument(readFileSync(file));
        if (part) parts.push(part);
      }
    } else {
      const part = classifyCollateralDocument(readFileSync(path));
      if (!part) throw attestationError('COLLATERAL_MALFORMED', `${path} is not a collateral document`);
      parts.push(part);
    }
  }
  return mergeCollateral(parts, quote ? quotePlatform(quote).fmspc : undefined);
}
