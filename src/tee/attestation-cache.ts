import { createHash } from 'node:crypto';
import type { VerifiedQuote } from './types.ts';

/**
 * Verified quotes by SHA-256 of the quote (and the trust anchor), least recently used first out. Unlike the
 * reference's cache, an entry dies when its collateral does: a quote verified against collateral that has since
 * expired is verified again (cocoon-reference.md §14.10).
 *
 * @example
 * const cache = new AttestationCache(10_000);
 * const hit = cache.get(quote, rootKey, now) ?? verify(...);
 */
export class AttestationCache {
  private readonly entries = new Map<string, VerifiedQuote>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity = 10_000) {}

  private key(quote: Uint8Array, anchor: string): string {
    return `${anchor}:${createHash('sha256').update(quote).digest('hex')}`;
  }

  get size(): number {
    return this.entries.size;
  }

  get(quote: Uint8Array, anchor: string, now: Date): VerifiedQuote | undefined {
    const k = this.key(quote, anchor);
    const v = this.entries.get(k);
    if (!v) {
      this.misses++;
      return undefined;
    }
    if (now.getTime() > v.collateralExpiresAt.getTime()) {
      this.entries.delete(k);
      this.misses++;
      return undefined;
    }
    // Re-insert to mark as most recently used.
    this.entries.delete(k);
    this.entries.set(k, v);
    this.hits++;
    return v;
  }

  set(quote: Uint8Array, anchor: string, v: VerifiedQuote): void {
    const k = this.key(quote, anchor);
    this.entries.delete(k);
    this.entries.set(k, v);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
