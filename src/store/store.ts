// Crash-safe state of a node: an LMDB environment (ACID transactions, each commit synced to disk before it is
// acknowledged), holding JSON values with exact bigints. Money state is written here before anything that depends
// on it leaves the node: a payment is signed only over amounts already committed.

import { mkdirSync } from 'node:fs';
import { type Database, open, type RootDatabase } from 'lmdb';
import { CocoonError } from '../errors.ts';

export class StoreError extends CocoonError {}

const BIG = '\u0000n:';

/** JSON with bigints kept exact (as tagged strings). */
function encode(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${BIG}${x}` : x));
}

function decode<T>(s: string): T {
  return JSON.parse(s, (_k, x) =>
    typeof x === 'string' && x.startsWith(BIG) ? BigInt(x.slice(BIG.length)) : x,
  ) as T;
}

/** The key range of a prefix (every key a node writes is below U+FFFF after its prefix). */
function prefixRange(prefix: string, reverse: boolean): { start: string; end: string; reverse: boolean } {
  const end = `${prefix}\uffff`;
  return reverse ? { start: end, end: prefix, reverse } : { start: prefix, end, reverse };
}

/**
 * A node's store. Keys are strings; values any JSON (bigints included).
 *
 * @example
 * const store = Store.open('.cocoon/proxy-db');
 * await store.transaction((tx) => { tx.put('client:EQ…', { tokens: 5n }); });
 * store.get<{ tokens: bigint }>('client:EQ…');
 */
export class Store {
  private constructor(
    private readonly root: RootDatabase,
    private readonly db: Database<string, string>,
    readonly path: string,
  ) {}

  static open(path: string): Store {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    let root: RootDatabase;
    try {
      // Synced commits (no noSync / noMetaSync): an acknowledged transaction survives a crash or power loss.
      root = open({ path, compression: false, encoding: 'string' });
    } catch (err) {
      throw new StoreError('STORE_OPEN', `cannot open the store at ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return new Store(root, root.openDB<string, string>({ name: 'state', encoding: 'string' }), path);
  }

  get<T>(key: string): T | undefined {
    const s = this.db.get(key);
    return s === undefined ? undefined : decode<T>(s);
  }

  /**
   * The entries whose key starts with `prefix`, in key order; with `last`, only the last `last` of them (read
   * from the end, so a long list is not read whole).
   */
  list<T>(prefix: string, opts: { last?: number } = {}): { key: string; value: T }[] {
    const out: { key: string; value: T }[] = [];
    if (opts.last !== undefined) {
      const range = this.db.getRange({ ...prefixRange(prefix, true), limit: opts.last });
      for (const { key, value } of range) out.push({ key, value: decode<T>(value) });
      return out.reverse();
    }
    for (const { key, value } of this.db.getRange({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      out.push({ key, value: decode<T>(value) });
    }
    return out;
  }

  /** How many keys start with `prefix`. */
  count(prefix: string): number {
    return this.db.getCount(prefixRange(prefix, false));
  }

  /** The first `limit` keys that start with `prefix`, in key order (values are not read). */
  keys(prefix: string, limit: number): string[] {
    return [...this.db.getKeys({ ...prefixRange(prefix, false), limit })];
  }

  /**
   * Runs `fn` as one transaction: all its writes commit together, durably, or none does. Resolves once the
   * commit is on disk.
   */
  async transaction(
    fn: (tx: { put(key: string, value: unknown): void; remove(key: string): void }) => void,
  ): Promise<void> {
    // Writes are staged while `fn` runs, so a throw leaves nothing behind; then applied in one LMDB transaction.
    const writes: [string, string | undefined][] = [];
    fn({
      put: (key, value) => {
        writes.push([key, encode(value)]);
      },
      remove: (key) => {
        writes.push([key, undefined]);
      },
    });
    if (writes.length === 0) return;
    const done = this.db.transaction(() => {
      for (const [key, value] of writes) {
        if (value === undefined) this.db.removeSync(key);
        else this.db.putSync(key, value);
      }
    });
    try {
      await done;
      this.lastCommitFailed = false;
    } catch (err) {
      this.lastCommitFailed = true;
      // When a commit fails, lmdb rejects its shared commit promise too (it exists only once the commit ran);
      // observed here, so that a full disk is this call's StoreError, not an unhandled rejection ending the process.
      this.root.committed.then(undefined, () => {});
      // lmdb attaches the real cause as a second promise, `commitError`: its reason (e.g. ENOSPC) is what the
      // caller needs to read.
      const detail = (err as { commitError?: Promise<unknown> }).commitError;
      let cause: unknown = err;
      if (detail instanceof Promise)
        cause = await detail.then(
          () => err,
          (e: unknown) => e,
        );
      throw new StoreError('STORE_WRITE', `the store could not commit: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  private lastCommitFailed = false;

  async close(): Promise<void> {
    // After a failed commit lmdb's close waits for that commit forever; what is committed is on disk already,
    // so the environment is left to the process's end instead.
    if (this.lastCommitFailed) {
      this.root.close().catch(() => {});
      return;
    }
    await this.root.close();
  }
}
