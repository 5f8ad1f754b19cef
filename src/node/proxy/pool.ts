// The proxy's workers, grouped by model, and the choice of one for each request (cocoon-reference.md §8, with
// its defects fixed): a worker is a candidate when it is enabled, has room (running < its share of
// max_active_requests) and costs no more than the client accepts; among candidates the proxy picks the one with
// the lowest expected wait — (running + 1) × its measured time per request, divided by its success rate — so a
// fast reliable worker gets more work, a failing one less, and a fresh one is tried at the pool's typical speed
// instead of all ties landing on the first connection.

/** Measured behaviour of one worker connection: exponentially weighted, recent requests count most. */
export interface WorkerScore {
  /** Weighted mean duration of successful requests, ms (undefined until one succeeded). */
  meanMs: number | undefined;
  /** Weighted success rate in [0, 1] (starts at 1). */
  successRate: number;
  queries: number;
  failures: number;
}

export interface PoolWorker {
  id: number;
  /** Model base name (before '@'). */
  model: string;
  coefficient: number;
  /** This proxy's share of the worker's max_active_requests. */
  capacity: number;
  running: number;
  enabled: boolean;
  score: WorkerScore;
}

/** Weight of the newest sample in the running means. */
const ALPHA = 0.2;
/** A success rate never counts as lower than this, so a worker that failed once is still tried eventually. */
const MIN_RATE = 0.05;

export function newScore(): WorkerScore {
  return { meanMs: undefined, successRate: 1, queries: 0, failures: 0 };
}

/** Records one finished request on a worker's score. */
export function recordOutcome(s: WorkerScore, ok: boolean, durationMs: number): void {
  s.queries++;
  if (!ok) s.failures++;
  s.successRate = (1 - ALPHA) * s.successRate + ALPHA * (ok ? 1 : 0);
  if (ok) s.meanMs = s.meanMs === undefined ? durationMs : (1 - ALPHA) * s.meanMs + ALPHA * durationMs;
}

export type PickResult<W> =
  | { worker: W }
  | { none: 'no_model' | 'no_worker' | 'busy' | 'too_expensive'; minCoefficient?: number };

/**
 * Picks a worker for a request, never one in `exclude` (workers that already failed this request).
 *
 * @example
 * const r = pick(pool.workersOf('Qwen/Qwen3-8B'), 4000);
 * if ('worker' in r) send(r.worker);
 */
export function pick<W extends PoolWorker>(
  workers: readonly W[],
  maxCoefficient: number,
  exclude: ReadonlySet<number> = new Set(),
  random: () => number = Math.random,
): PickResult<W> {
  if (workers.length === 0) return { none: 'no_model' };
  const usable = workers.filter((w) => w.enabled && !exclude.has(w.id));
  if (usable.length === 0) return { none: 'no_worker' };
  const affordable = usable.filter((w) => w.coefficient <= maxCoefficient);
  if (affordable.length === 0) {
    return { none: 'too_expensive', minCoefficient: Math.min(...usable.map((w) => w.coefficient)) };
  }
  const free = affordable.filter((w) => w.running < w.capacity);
  if (free.length === 0) return { none: 'busy' };
  const known = free.map((w) => w.score.meanMs).filter((m): m is number => m !== undefined);
  // A worker without measurements is assumed as fast as the median of those measured (1 ms if none is).
  const typical = known.length ? (known.sort((a, b) => a - b)[Math.floor(known.length / 2)] as number) : 1;
  let best: W[] = [];
  let bestCost = Number.POSITIVE_INFINITY;
  for (const w of free) {
    const cost = ((w.running + 1) * (w.score.meanMs ?? typical)) / Math.max(MIN_RATE, w.score.successRate);
    if (cost < bestCost * (1 - 1e-9)) {
      best = [w];
      bestCost = cost;
    } else if (cost <= bestCost * (1 + 1e-9)) {
      best.push(w);
    }
  }
  // Equal costs: the cheaper worker for the client, then a random one.
  const cheapest = Math.min(...best.map((w) => w.coefficient));
  const ties = best.filter((w) => w.coefficient === cheapest);
  return { worker: ties[Math.floor(random() * ties.length)] as W };
}
