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
import { contractsBench } from './contracts.ts';

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
      // On-chain settlement: a signed charge to the client contract and a signed payout from the worker contract,
      // each sent by a wallet, with every fee of their cascades, measured in the emulator (mainnet config).
      const contracts = (await contractsBench.run({ quick: true })) as Record<
        string,
        { total_fee_nano: string }
      >;
      const fee = (k: string) => BigInt(contracts[k]?.total_fee_nano ?? '0');
      const perSettlement =
        fee('client_charge_signed') + fee('worker_payout_signed') + 2n * fee('wallet_batch_1');
      const price = 20n;
      const at = (thresholdNano: bigint) => {
        const tokens = thresholdNano / price;
        return {
          settle_every_nanoton: thresholdNano,
          fees_per_1m_tokens_nanoton: (perSettlement * 1_000_000n) / tokens,
          fees_percent_of_value: Number((perSettlement * 1_000_000n) / thresholdNano) / 10_000,
        };
      };
      const settlement = {
        fees_per_settlement_nanoton: perSettlement,
        price_per_token_nanoton: price,
        at_1_ton: at(1_000_000_000n),
        at_20_ton: at(20_000_000_000n),
        threshold_for_0_1_percent_nanoton: perSettlement * 1000n,
      };
      return {
        fees_per_1m_tokens_nanoton_at_1_ton: settlement.at_1_ton.fees_per_1m_tokens_nanoton,
        fees_percent_at_1_ton: settlement.at_1_ton.fees_percent_of_value,
        goal_fees_percent: 0.1,
        settlement,
        accounting_us_per_request_c64: (out.c64 as { accounting_us_per_request: number })
          .accounting_us_per_request,
        accounting_us_per_request_c1: (out.c1 as { accounting_us_per_request: number })
          .accounting_us_per_request,
        goal_us: 50,
        ...out,
        note: "c1: every request waits for its own synced commit (the latency a request sees); c64: 64 requests ending together share one commit (the cost under load). Settlement: fees of one signed charge and one signed payout (with their wallet transactions) per settlement of the threshold's worth; the fee share falls with the threshold (the reference settles every 1 TON).",
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
