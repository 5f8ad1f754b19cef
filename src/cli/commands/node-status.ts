// `cocoon client status|topup|withdraw|close|receipts` and `cocoon worker status|payout`: what a running node (of
// `cocoon up`, or a runner started with the same --dir) holds and owes, and the owner's operations on its contracts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTon, parseTon } from '../../chain/client.ts';
import { toJson } from '../../node/http-util.ts';
import { decodeReceipt, receiptJson } from '../../receipt/receipt.ts';
import { askNode } from './node-opts.ts';

export const CLIENT_OPS = ['status', 'topup', 'withdraw', 'close', 'receipts'] as const;
export const WORKER_OPS = ['status', 'payout'] as const;

export const clientOpsUsage = [
  'Usage: cocoon client status|topup [TON]|withdraw|close|receipts [--dir DIR] [--json] [--access-token T]',
  '',
  '  status    balance and stake of the client contract, charged_tokens and charged_nanoton (everything the',
  '            proxy has charged so far, its newest signed charge), tokens charged on-chain',
  '  topup     add TON to the client contract (default twice the minimum stake)',
  '  withdraw  take back the balance above the stake',
  '  close     close the contract: the balance comes back after the proxy settles, or after the delay',
  '  receipts  the newest signed receipts (--limit N, default 20; --save DIR writes each to a file that',
  '            `cocoon receipt verify FILE` checks offline)',
].join('\n');

export const workerOpsUsage = [
  'Usage: cocoon worker status|payout [--dir DIR] [--json] [--access-token T]',
  '',
  '  status    earned tokens and nanoTON per proxy (newest signed payout) and what was paid out on-chain',
  "  payout    cash out every proxy's newest signed payout now",
].join('\n');

const opts = {
  dir: { type: 'string' },
  json: { type: 'boolean' },
  'access-token': { type: 'string' },
  limit: { type: 'string' },
  save: { type: 'string' },
} as const;

type ClientStats = {
  proxies: {
    address: string;
    client_sc_address: string;
    charged_tokens: number;
    charged_nanoton: number;
    contract: { balance: number; stake: number; charged_on_chain_tokens: number; state: string } | null;
  }[];
};
type WorkerStats = {
  status: { enabled: boolean; model: string; coefficient: number };
  proxies: {
    address: string;
    worker_sc_address: string;
    signed_tokens: number;
    earned_nanoton: number;
    paid_on_chain_tokens: number | null;
  }[];
};

const ton = (n: number | bigint) => formatTon(BigInt(n));

export async function clientOp(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: opts, allowPositionals: true });
  const [op, amount] = positionals;
  const dir = v.dir ?? '.cocoon';
  const token = v['access-token'];
  const out = (text: string, json: unknown) =>
    process.stdout.write(v.json ? `${toJson(json)}\n` : `${text}\n`);
  if (op === 'status') {
    const s = (await askNode(dir, 'client', '/jsonstats?refresh=1', { token })) as ClientStats;
    const rows = s.proxies.map((p) => ({
      proxy: p.address,
      contract: p.client_sc_address,
      balance: p.contract?.balance ?? null,
      stake: p.contract?.stake ?? null,
      state: p.contract?.state ?? null,
      charged_tokens: p.charged_tokens,
      charged_nanoton: p.charged_nanoton,
      charged_on_chain_tokens: p.contract?.charged_on_chain_tokens ?? null,
    }));
    const text = rows
      .map((r) =>
        [
          `proxy ${r.proxy}, client contract ${r.contract || '(none)'}${r.state ? ` (${r.state})` : ''}`,
          r.balance === null
            ? '  no contract on a chain'
            : `  balance ${ton(r.balance)} TON, stake ${ton(r.stake ?? 0)} TON`,
          `  charged ${r.charged_tokens} tokens = ${ton(r.charged_nanoton)} TON (${r.charged_on_chain_tokens ?? 0} settled on-chain)`,
        ].join('\n'),
      )
      .join('\n');
    out(text || 'not connected to a proxy', rows.length === 1 ? rows[0] : rows);
    return 0;
  }
  if (op === 'receipts') {
    const limit = v.limit ?? '20';
    const r = (await askNode(dir, 'client', `/request/receipts?limit=${encodeURIComponent(limit)}`, {
      token,
    })) as { receipts: { key: string; receipt: string; ok: boolean; problems: string[] }[] };
    const rows = r.receipts.map((x) => {
      const j = receiptJson(decodeReceipt(Buffer.from(x.receipt, 'base64')));
      return { id: x.key, verified: x.ok, problems: x.problems, ...j, receipt: x.receipt };
    });
    if (v.save) {
      mkdirSync(v.save, { recursive: true });
      for (const x of rows)
        writeFileSync(join(v.save, `${x.id.replace(/[^0-9a-f]/gi, '-')}.receipt`), `${x.receipt}\n`);
    }
    // Each contract's receipts against the proxy's newest signed charge: the running totals it countersigned must
    // grow by exactly what each receipt charged, and its signed charge may not exceed the newest total.
    const stats = (await askNode(dir, 'client', '/jsonstats', { token })) as ClientStats;
    const audit = stats.proxies.map((p) => {
      const mine = rows.filter((x) => x.charge.client_contract === p.client_sc_address);
      const gaps: string[] = [];
      for (let i = 1; i < mine.length; i++) {
        const a = mine[i - 1] as (typeof mine)[number];
        const b = mine[i] as (typeof mine)[number];
        const step = BigInt(b.charge.client_total_tokens) - BigInt(a.charge.client_total_tokens);
        if (step !== BigInt(b.charge.tokens))
          gaps.push(
            `${step - BigInt(b.charge.tokens)} tokens charged between receipts ${a.id} and ${b.id} without one`,
          );
      }
      const last = mine.at(-1);
      const signed = BigInt(p.charged_tokens);
      const covered = last ? BigInt(last.charge.client_total_tokens) : undefined;
      return {
        contract: p.client_sc_address,
        signed_charge_tokens: String(signed),
        newest_receipt_total_tokens: covered === undefined ? null : String(covered),
        receipts: mine.length,
        unexplained_tokens: covered === undefined || signed <= covered ? '0' : String(signed - covered),
        gaps,
      };
    });
    const text = rows
      .map((x) => {
        const t = x.tokens;
        const c = x.charge;
        return [
          String(x.time).slice(0, 19).replace('T', ' '),
          x.model,
          x.sealed ? 'sealed' : 'plain ',
          `${t.total} tokens`,
          `${ton(BigInt(c.nanoton))} TON`,
          `worker ${String(x.worker_key).slice(0, 16)}`,
          x.verified ? 'verified' : `NOT VERIFIED: ${x.problems.join('; ')}`,
        ].join('  ');
      })
      .join('\n');
    const auditText = audit
      .filter((a) => a.receipts > 0)
      .map((a) =>
        a.unexplained_tokens === '0' && a.gaps.length === 0
          ? `${a.contract}: the signed charge (${a.signed_charge_tokens} tokens) is covered by the newest countersigned receipt (${a.newest_receipt_total_tokens} in all)`
          : `${a.contract}: ${a.unexplained_tokens !== '0' ? `the signed charge of ${a.signed_charge_tokens} tokens exceeds the newest countersigned total (${a.newest_receipt_total_tokens}) by ${a.unexplained_tokens}; ` : ''}${a.gaps.join('; ')}`,
      )
      .join('\n');
    out(
      (text || 'no receipts yet') +
        (auditText ? `\n${auditText}` : '') +
        (v.save && rows.length ? `\n${rows.length} saved in ${v.save}` : ''),
      v.json ? { receipts: rows, audit } : rows,
    );
    return 0;
  }
  if (op === 'topup' || op === 'withdraw' || op === 'close') {
    const q = op === 'topup' && amount ? `?amount=${parseTon(amount)}` : '';
    const r = (await askNode(dir, 'client', `/request/${op}${q}`, { method: 'POST', token })) as {
      done: { contract: string; done: string }[];
    };
    out(r.done.map((d) => `${d.contract}: ${d.done}`).join('\n') || 'no client contract', r);
    return 0;
  }
  process.stderr.write(`${clientOpsUsage}\n`);
  return 2;
}

export async function workerOp(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: opts, allowPositionals: true });
  const dir = v.dir ?? '.cocoon';
  const token = v['access-token'];
  const out = (text: string, json: unknown) =>
    process.stdout.write(v.json ? `${toJson(json)}\n` : `${text}\n`);
  if (positionals[0] === 'status') {
    const s = (await askNode(dir, 'worker', '/jsonstats', { token })) as WorkerStats;
    const rows = s.proxies.map((p) => ({
      proxy: p.address,
      contract: p.worker_sc_address,
      earned_tokens: p.signed_tokens,
      earned_nanoton: p.earned_nanoton,
      paid_on_chain_tokens: p.paid_on_chain_tokens,
    }));
    const text = [
      `worker ${s.status.model} ×${s.status.coefficient / 1000}, ${s.status.enabled ? 'enabled' : 'disabled'}`,
      ...rows.map(
        (r) =>
          `  proxy ${r.proxy}: earned ${r.earned_tokens} tokens = ${ton(r.earned_nanoton)} TON, paid out on-chain ${r.paid_on_chain_tokens ?? 0} tokens`,
      ),
    ].join('\n');
    out(text, { enabled: s.status.enabled, proxies: rows });
    return 0;
  }
  if (positionals[0] === 'payout') {
    const r = (await askNode(dir, 'worker', '/request/payout', { method: 'POST', token })) as {
      payouts: number;
    };
    out(`${r.payouts} payout(s) sent`, r);
    return 0;
  }
  process.stderr.write(`${workerOpsUsage}\n`);
  return 2;
}
