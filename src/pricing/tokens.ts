// Token accounting and prices (cocoon-reference.md §7): adjusted tokens from raw counts, their cost in nanoTON,
// and the proxy's view of how many tokens a client may still use. All integer arithmetic: the reference computes
// trunc(n · coef/1000 · mult/10000) in doubles, which can be off by one for large counts; here it is exact.

/** Raw token counts of one request, as the engine reported them (the largest value seen of each). */
export interface TokenCounts {
  prompt: bigint;
  /** Prompt tokens served from cache (part of `prompt`). */
  cached: bigint;
  completion: bigint;
  /** Reasoning tokens (part of `completion`). */
  reasoning: bigint;
}

/** Price multipliers from the params cell, 10000 = 1.0×. */
export interface Multipliers {
  prompt: number;
  cached: number;
  completion: number;
  reasoning: number;
}

export const NEUTRAL_MULTIPLIERS: Multipliers = {
  prompt: 10000,
  cached: 10000,
  completion: 10000,
  reasoning: 10000,
};

export interface AdjustedTokens {
  prompt: bigint;
  cached: bigint;
  completion: bigint;
  reasoning: bigint;
  total: bigint;
}

/** Smaller of two bigints (Math.min does not take bigints). */
function minBig(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

function adj(n: bigint, coefficient: bigint, mult: number): bigint {
  return (n * coefficient * BigInt(mult)) / 10_000_000n;
}

/**
 * Adjusted tokens: uncached prompt, cached prompt, non-reasoning completion and reasoning tokens, each scaled by
 * the worker coefficient (×1000) and its multiplier (×10000), truncated.
 *
 * @example
 * adjustTokens({ prompt: 100n, cached: 20n, completion: 50n, reasoning: 0n }, 1500, NEUTRAL_MULTIPLIERS).total // 195n
 */
export function adjustTokens(c: TokenCounts, coefficient: number, m: Multipliers): AdjustedTokens {
  if (!Number.isSafeInteger(coefficient) || coefficient < 0)
    throw new RangeError('coefficient must be a non-negative integer (×1000)');
  const coef = BigInt(coefficient);
  const cached = minBig(c.cached, c.prompt);
  const reasoning = minBig(c.reasoning, c.completion);
  const prompt = adj(c.prompt - cached, coef, m.prompt);
  const cachedAdj = adj(cached, coef, m.cached);
  const completion = adj(c.completion - reasoning, coef, m.completion);
  const reasoningAdj = adj(reasoning, coef, m.reasoning);
  return {
    prompt,
    cached: cachedAdj,
    completion,
    reasoning: reasoningAdj,
    total: prompt + cachedAdj + completion + reasoningAdj,
  };
}

/** What the usage object carries: costs in nanoTON under the reference's names. */
export interface Costs {
  prompt_total_cost: bigint;
  completion_total_cost: bigint;
  total_cost: bigint;
}

export function costsOf(a: AdjustedTokens, pricePerToken: bigint): Costs {
  return {
    prompt_total_cost: (a.prompt + a.cached) * pricePerToken,
    completion_total_cost: (a.completion + a.reasoning) * pricePerToken,
    total_cost: a.total * pricePerToken,
  };
}

/** What a worker earns and what the proxy keeps for adjusted tokens. */
export function split(
  total: bigint,
  pricePerToken: bigint,
  workerFeePerToken: bigint,
): { worker: bigint; proxy: bigint; client: bigint } {
  return {
    client: total * pricePerToken,
    worker: total * workerFeePerToken,
    proxy: total * (pricePerToken - workerFeePerToken),
  };
}

/** The proxy's view of one client (§7.3). Money in nanoTON, tokens adjusted. */
export interface ClientCredit {
  balance: bigint;
  stake: bigint;
  /** Tokens the client contract has been charged for. */
  chargedTokens: bigint;
  /** Tokens reserved by requests in flight. */
  reserved: bigint;
  /** Tokens used so far (charged or not). */
  usedTokens: bigint;
  pricePerToken: bigint;
}

/**
 * Tokens the client may still start requests for: what it paid for, but never more than its stake beyond what has
 * been charged — the stake is what the proxy risks before it can charge.
 */
export function tokensAvailable(c: ClientCredit): bigint {
  if (c.pricePerToken <= 0n) throw new RangeError('price per token must be positive');
  const paid = c.balance / c.pricePerToken + c.chargedTokens;
  const byStake = c.stake / c.pricePerToken + c.chargedTokens;
  const cap = minBig(paid, byStake);
  const left = cap - c.reserved - c.usedTokens;
  return left > 0n ? left : 0n;
}

/**
 * The reservation for a request: its max tokens (default 1000, as the reference) scaled by the worst coefficient
 * it accepts (×1000), rounded up.
 */
export function reservationFor(maxTokens: number | undefined, maxCoefficient: number): bigint {
  const n = BigInt(maxTokens ?? 1000);
  const c = BigInt(maxCoefficient);
  return (n * c + 999n) / 1000n;
}
