import { EngineError } from '../errors.ts';

/**
 * A counting semaphore that serves waiters strictly in arrival order, so no request starves behind later ones.
 * A waiter whose signal aborts leaves the queue.
 *
 * @example
 * const release = await queue.acquire(signal);
 * try { await work(); } finally { release(); }
 */
export class FifoSemaphore {
  private readonly waiters: { grant: () => void; cancel: () => void }[] = [];

  constructor(private available: number) {}

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.grant();
      else this.available++;
    };
    if (signal?.aborted) return Promise.reject(new EngineError('CANCELLED', 'the request was cancelled'));
    if (this.available > 0 && this.waiters.length === 0) {
      this.available--;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new EngineError('CANCELLED', 'the request was cancelled while queued'));
      };
      const w = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        cancel: onAbort,
      };
      this.waiters.push(w);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
