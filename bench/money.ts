// What the proxy's books cost per request: adding a request's tokens to its client and worker, committing them
// (one synced LMDB transaction per batch of requests ending together) and signing the two payment messages — the
// same code the proxy runs — at 1 and 64 requests ending at once. The baseline, in the same run, is the same
// bookkeeping with nothing committed or signed.

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address } from '@ton/core';
import type { Benchmark } from '../src/cli/commands/bench.ts';
import { ProxyAccounts } from '../src/node/proxy/accounts.ts';
import { Store } from '../src/store/store.ts';

const r2 = (x: number) => Math.round(x * 100) / 100;

async function perRequestUs(books: ProxyAccounts, concurrency: number, requests: number): Promise<number> {
  const clients = Array.from({ length: 16 }, (_, i) =>
    books.get('client', `c${i}`, Address.parse(`0:${i.toString(16).padStart(64, '1')}`).toString()),
  );
  const workers = Array.from({ length: 4 }, (_, i) =>
    books.get('worker', `w${i}`, Address.parse(`0:${i.toString(16).padStart(64, '2')}`).toString()),
  );
  const one = async (i: number) => {
    const c = clients[i % clients.length]!;
    const w = workers[i % workers.length]!;
    books.add(c, 18n);
    books.add(w, 18n);
    await books.flush();
    books.payment(c);
    books.payment(w);
  };
  for (let i = 0; i < 200; i++) await one(i); // warm up
  const t0 = performance.now();
  for (let i = 0; i < requests; i += concurrency) {
    await Promise.all(Array.from({ length: concurrency }, (_, k) => one(i + k)));
  }
  return ((performance.now() - t0) * 1000) / requests;
}

export const moneyBench: Benchmark = {
  summary: "the proxy's accounting cost per request (commit and signatures)",
  async run({ quick }) {
    const dir = mkdtempSync(join(tmpdir(), 'cocoon-bench-money-'));
    const signer = {
      privateKey: generateKeyPairSync('ed25519').privateKey,
      excessesTo: Address.parse(`0:${'3'.repeat(64)}`),
    };
    const n = quick ? 2_000 : 20_000;
    try {
      const store = Store.open(join(dir, 'db'));
      const out: Record<string, unknown> = {};
      for (const c of [1, 64]) {
        const baseline = await perRequestUs(new ProxyAccounts(undefined, undefined), c, n);
        const full = await perRequestUs(
          new ProxyAccounts(store, signer),
          c,
          c === 1 ? Math.min(n, 2_000) : n,
        );
        out[`c${c}`] = {
          accounting_us_per_request: r2(full - baseline),
          with_store_and_signatures_us: r2(full),
          baseline_bookkeeping_us: r2(baseline),
        };
      }
      await store.close();
      return {
        accounting_us_per_request_c64: (out.c64 as { accounting_us_per_request: number })
          .accounting_us_per_request,
        accounting_us_per_request_c1: (out.c1 as { accounting_us_per_request: number })
          .accounting_us_per_request,
        goal_us: 50,
        ...out,
        note: 'c1: every request waits for its own synced commit (the latency a request sees); c64: 64 requests ending together share one commit (the cost under load). On-chain settlement fees are not measured yet: the proxy does not submit charges on-chain yet.',
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
