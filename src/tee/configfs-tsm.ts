// Real TDX quotes from inside a TD, with no native addon: Linux configfs-tsm (kernel ≥ 6.7). A report entry is a
// directory under /sys/kernel/config/tsm/report: write 64 bytes of REPORTDATA to `inblob`, read the quote from
// `outblob`; `generation` detects a concurrent writer, `provider` names the backend (`tdx_guest`). The host's
// quote generation service must be reachable (the reference uses vsock port 4050).

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attestationError } from './errors.ts';

export const DEFAULT_TSM_ROOT = '/sys/kernel/config/tsm/report';

/** A source of hardware quotes. */
export interface TdxQuoteSource {
  getQuote(reportData: Uint8Array): Promise<Uint8Array>;
}

/**
 * Quotes through configfs-tsm. Every failure (no configfs, no TDX provider, no quote service) is
 * `TDX_UNAVAILABLE` with what was missing.
 *
 * @example
 * const quote = await tdxQuoteSource().getQuote(reportDataFor(publicKey));
 */
export function tdxQuoteSource(opts: { root?: string } = {}): TdxQuoteSource {
  const root = opts.root ?? DEFAULT_TSM_ROOT;
  return {
    async getQuote(reportData: Uint8Array): Promise<Uint8Array> {
      if (reportData.length !== 64)
        throw new RangeError(`REPORTDATA must be 64 bytes, got ${reportData.length}`);
      try {
        if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
      } catch (err) {
        throw attestationError(
          'TDX_UNAVAILABLE',
          `${root} does not exist: not a TDX guest with configfs-tsm`,
          err,
        );
      }
      const entry = join(root, `cocoon-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await mkdir(entry);
      } catch (err) {
        throw attestationError('TDX_UNAVAILABLE', `cannot create ${entry}`, err);
      }
      try {
        const provider = (await readFile(join(entry, 'provider'), 'utf8').catch(() => '')).trim();
        if (provider !== 'tdx_guest') {
          throw attestationError(
            'TDX_UNAVAILABLE',
            `configfs-tsm provider is ${JSON.stringify(provider || 'missing')}, not tdx_guest`,
          );
        }
        const generation = async () => Number((await readFile(join(entry, 'generation'), 'utf8')).trim());
        const before = await generation();
        await writeFile(join(entry, 'inblob'), reportData);
        let quote: Buffer;
        try {
          quote = await readFile(join(entry, 'outblob'));
        } catch (err) {
          throw attestationError(
            'TDX_UNAVAILABLE',
            'the TDX module produced no quote (is the host quote service reachable?)',
            err,
          );
        }
        if ((await generation()) !== before + 1) {
          throw attestationError('TDX_UNAVAILABLE', 'another writer used the report entry concurrently');
        }
        if (quote.length === 0) throw attestationError('TDX_UNAVAILABLE', 'empty quote');
        return new Uint8Array(quote);
      } finally {
        await rmdir(entry).catch(() => undefined);
      }
    },
  };
}
