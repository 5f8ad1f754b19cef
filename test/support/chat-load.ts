// A steady load of chat requests for the fault tests: a few loops, each sending one request after another
// through an OpenAI client, counting what was answered, what failed and what the app was billed.
//
// The loops end when the test ends, whether it passed or not: a failed assertion would otherwise leave them
// running (a request failing every 50 ms once the nodes are gone), and the test file's process would never exit.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type OpenAI from 'openai';

export interface ChatLoad {
  /** Answers received so far. */
  readonly ok: number;
  /** Requests that failed so far. */
  readonly failed: number;
  /** The sum of the answers' `usage.billed_tokens`. */
  readonly billed: bigint;
  /** Resolves once `n` answers have come in all; fails the test when they have not within `timeoutMs`. */
  until(n: number, timeoutMs?: number): Promise<void>;
  /** Stops sending and waits for the requests in flight (aborting them after 30 s). */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `loops` request loops against `ai` (model `test-model`, a distinct prompt per loop).
 *
 * @example
 * const load = chatLoad(t, ai);
 * await load.until(20);
 * proxy.kill('SIGKILL');
 * await load.until(load.ok + 20);
 * await load.stop();
 */
export function chatLoad(t: TestContext, ai: OpenAI, loops = 4): ChatLoad {
  let ok = 0;
  let failed = 0;
  let billed = 0n;
  let stopped = false;
  const abort = new AbortController();
  const loop = async (i: number) => {
    while (!stopped) {
      try {
        const r = await ai.chat.completions.create(
          { model: 'test-model', messages: [{ role: 'user', content: `m${i}` }] },
          { signal: abort.signal },
        );
        billed += BigInt((r.usage as unknown as { billed_tokens?: number }).billed_tokens ?? 0);
        ok++;
      } catch {
        failed++;
        await sleep(50);
      }
    }
  };
  const running = Array.from({ length: loops }, (_, i) => loop(i));
  const stop = async () => {
    stopped = true;
    // The client's timeout ends at the answer's headers: a body that never ends is cut here instead.
    const ended = Promise.all(running);
    const late = setTimeout(() => abort.abort(), 30_000);
    await ended;
    clearTimeout(late);
  };
  t.after(stop);
  return {
    get ok() {
      return ok;
    },
    get failed() {
      return failed;
    },
    get billed() {
      return billed;
    },
    async until(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (ok < n && Date.now() < deadline) await sleep(10);
      assert.ok(ok >= n, `only ${ok} of ${n} answers after ${timeoutMs} ms (${failed} requests failed)`);
    },
    stop,
  };
}
