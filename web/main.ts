// The Cocoon dashboard: polls the nodes' /jsonstats (the node list comes from the node serving this page), shows
// the network, models, workers, clients and attestation, charts the live request and token rates, and chats
// through the local client with a streamed answer, whose receipt and privacy label it verifies in the browser.

import uPlot from 'uplot';
import { verifyLabelWeb, verifyReceiptWeb, type WebDcapInput } from '../src/receipt/verify-web.ts';
import { fromBase64 } from '../src/tee/bytes.ts';
import { collateralFromPhalaJson } from '../src/tee/collateral.ts';

// biome-ignore lint/suspicious/noExplicitAny: the page reads the nodes' /jsonstats, documented in their source
type Json = Record<string, any>;
const params = new URLSearchParams(location.search);
const token = params.get('access_token') ?? '';
const withToken = (url: string) =>
  `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;

async function get(url: string): Promise<Json | undefined> {
  try {
    const r = await fetch(withToken(url));
    return r.ok ? ((await r.json()) as Json) : undefined;
  } catch {
    return undefined;
  }
}

const esc = (v: unknown) =>
  String(v ?? '—').replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string,
  );
const ton = (nano: number | undefined) =>
  nano === undefined || nano === null
    ? '—'
    : `${(nano / 1e9).toFixed(9).replace(/0+$/, '').replace(/\.$/, '')} TON`;
const short = (s: string | undefined) => (s ? `${s.slice(0, 6)}…${s.slice(-4)}` : '—');

function table(el: Element, head: string[], rows: unknown[][]): void {
  el.innerHTML = rows.length
    ? `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
        .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
        .join('')}</table>`
    : '<i>none</i>';
}

const body = (id: string) => document.querySelector(`#${id} .body`) as Element;

// Live charts: requests/s and tokens/s from the proxy's counters.
const times: number[] = [];
const reqRate: number[] = [];
const tokRate: number[] = [];
let last: { t: number; requests: number; tokens: number } | undefined;
const chartOpts = (title: string, label: string): uPlot.Options => ({
  title,
  width: 400,
  height: 160,
  scales: { x: { time: true } },
  series: [{}, { label, stroke: '#3867d6', width: 2 }],
});
const rateChart = new uPlot(
  chartOpts('requests / s', 'requests'),
  [[], []],
  document.getElementById('rate-chart') as HTMLElement,
);
const tokenChart = new uPlot(
  chartOpts('tokens / s', 'tokens'),
  [[], []],
  document.getElementById('token-chart') as HTMLElement,
);

let nodes: { client?: string; proxy?: string; worker?: string } = {};

async function refresh(): Promise<void> {
  const [proxy, client, worker] = await Promise.all([
    nodes.proxy !== undefined ? get(`${nodes.proxy}/jsonstats`) : undefined,
    nodes.client !== undefined ? get(`${nodes.client}/jsonstats`) : undefined,
    nodes.worker !== undefined ? get(`${nodes.worker}/jsonstats`) : undefined,
  ]);
  const status = document.getElementById('status') as HTMLElement;
  status.textContent =
    proxy || client || worker ? `updated ${new Date().toLocaleTimeString()}` : 'no node answers';

  if (proxy) {
    const root = proxy.root_contract_config ?? {};
    table(
      body('network'),
      ['', ''],
      [
        ['root version', esc(root.version)],
        [
          'price per token',
          `${esc(root.price_per_token)} nanoTON (worker fee ${esc(root.worker_fee_per_token)})`,
        ],
        [
          'proxies',
          (root.proxies ?? [])
            .map((p: Json) => `<code>${esc(p.workers)}</code> / <code>${esc(p.clients)}</code>`)
            .join('<br>'),
        ],
        ['proxy contract', `<code>${esc(proxy.status?.sc_address || 'none')}</code>`],
        [
          'allowed images',
          (root.worker_hashes ?? []).map((h: string) => `<code>${esc(short(h))}</code>`).join(' '),
        ],
        [
          'allowed models',
          (root.model_hashes ?? []).map((h: string) => `<code>${esc(short(h))}</code>`).join(' '),
        ],
      ],
    );
    const conns: Json[] = proxy.worker_connections ?? [];
    const earned = new Map<string, Json>((proxy.workers ?? []).map((w: Json) => [w.owner, w]));
    table(
      body('workers'),
      ['worker', 'model', '×', 'load', 'mean ms', 'success', 'earned', 'state'],
      conns.map((w) => [
        `<code>${esc(short(w.owner))}</code>`,
        esc(w.model),
        esc(w.coefficient / 1000),
        `${esc(w.running)}/${esc(w.capacity)}`,
        esc(w.mean_ms),
        `${Math.round((w.success_rate ?? 0) * 100)}%`,
        `${esc(earned.get(w.owner)?.committed ?? 0)} tokens`,
        w.enabled ? '<span class="ok">enabled</span>' : '<span class="bad">disabled</span>',
      ]),
    );
    const byModel = new Map<string, Json[]>();
    for (const w of conns) byModel.set(w.model, [...(byModel.get(w.model) ?? []), w]);
    table(
      body('models'),
      ['model', 'active workers', 'coefficients', 'price / token'],
      [...byModel].map(([m, ws]) => [
        esc(m),
        esc(ws.filter((w) => w.enabled).length),
        esc([...new Set(ws.map((w) => w.coefficient / 1000))].join(', ')),
        `${esc(root.price_per_token)} nanoTON`,
      ]),
    );
    const att = (who: string, p: Json) => [
      who,
      `<code>${esc(short(p.image_hash))}</code>`,
      `<code>${esc(short(p.mr_td ?? undefined))}</code>`,
      esc(p.attestation),
      esc(p.policy),
      esc(p.tcb_status ?? (p.attestation === 'fake_tdx' ? 'not verifiable' : '—')),
      esc(p.attested_until ? new Date(p.attested_until).toLocaleString() : '—'),
    ];
    table(
      body('attestation'),
      ['peer', 'image hash', 'MRTD', 'quote', 'policy', 'TCB status', 'valid until'],
      [
        ...conns.map((w) => att(`worker <code>${esc(short(w.owner))}</code>`, w)),
        ...((client?.proxies ?? []) as Json[]).map((p) => att(`proxy <code>${esc(p.address)}</code>`, p)),
      ],
    );
    const now = Date.now() / 1000;
    const s = proxy.stats ?? {};
    if (last && now > last.t) {
      times.push(now);
      reqRate.push((s.requests - last.requests) / (now - last.t));
      tokRate.push((Number(s.tokens) - last.tokens) / (now - last.t));
      if (times.length > 150) {
        for (const a of [times, reqRate, tokRate]) a.shift();
      }
      rateChart.setData([times, reqRate]);
      tokenChart.setData([times, tokRate]);
    }
    last = { t: now, requests: s.requests, tokens: Number(s.tokens) };
  }
  if (client) {
    table(
      body('clients'),
      ['client contract', 'balance', 'stake', 'charged', 'spent'],
      ((client.proxies ?? []) as Json[]).map((p) => [
        `<code>${esc(short(p.client_sc_address))}</code>`,
        ton(p.contract?.balance),
        ton(p.contract?.stake),
        `${esc(p.charged_tokens)} tokens`,
        ton(p.charged_nanoton),
      ]),
    );
  }
  const select = document.getElementById('chat-model') as HTMLSelectElement;
  if (nodes.client !== undefined && select.options.length === 0) {
    const models = await get(`${nodes.client}/v1/models`);
    for (const m of (models?.data ?? []) as Json[]) select.add(new Option(m.id, m.id));
  }
}

async function chat(question: string): Promise<void> {
  const log = document.getElementById('chat-log') as HTMLElement;
  const q = document.createElement('div');
  q.className = 'q';
  q.textContent = question;
  const a = document.createElement('div');
  a.className = 'a';
  log.append(q, a);
  const model = (document.getElementById('chat-model') as HTMLSelectElement).value;
  const res = await fetch(`${nodes.client}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(params.get('api_key') ? { authorization: `Bearer ${params.get('api_key')}` } : {}),
    },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: question }], stream: true }),
  });
  if (!res.ok || !res.body) {
    a.textContent = `error: ${res.status} ${await res.text()}`;
    return;
  }
  const label = res.headers.get('x-cocoon-privacy') ?? '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let receipt: string | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i = buf.indexOf('\n\n');
    while (i >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const name = /^event: ?(.*)$/m.exec(event)?.[1];
      const data = /^data: ?(.*)$/m.exec(event)?.[1] ?? '';
      if (name === 'cocoon.receipt') {
        try {
          receipt = (JSON.parse(data) as { receipt: string }).receipt;
        } catch {
          // not a receipt event after all
        }
      } else if (data && data !== '[DONE]') {
        try {
          const v = JSON.parse(data) as Json;
          a.textContent += v.choices?.[0]?.delta?.content ?? '';
          if (v.error) a.textContent += ` [error: ${v.error.message}]`;
        } catch {
          // a comment or keep-alive
        }
      }
      i = buf.indexOf('\n\n');
    }
  }
  if (receipt) {
    const button = document.createElement('button');
    button.className = 'verify-button';
    button.textContent = 'verify this answer';
    const out = document.createElement('div');
    out.className = 'verify';
    button.addEventListener('click', () => void verifyAnswer(receipt as string, label, out));
    log.append(button, out);
  }
}

let clientKey: Promise<string | undefined> | undefined;

/** The key the client signs its privacy labels with, from its attestation endpoint. */
function labelKey(): Promise<string | undefined> {
  clientKey ??= fetch(`${nodes.client}/v1/attestation?nonce=dashboard-${Date.now()}`, {
    headers: apiHeaders(),
  })
    .then((r) => (r.ok ? (r.json() as Promise<Json>) : undefined))
    .then((j) => j?.client?.public_key as string | undefined)
    .catch(() => undefined);
  return clientKey;
}

const apiHeaders = (): Record<string, string> =>
  params.get('api_key') ? { authorization: `Bearer ${params.get('api_key')}` } : {};

/**
 * Intel's signed collateral for a worker's quote, from the client (any source would do: the browser checks every
 * signature up to Intel's root, pinned in the bundle).
 */
async function collateralFor(quote: Uint8Array): Promise<WebDcapInput | undefined> {
  const r = await fetch(`${nodes.client}/v1/attestation/collateral`, {
    method: 'POST',
    body: quote,
    headers: { ...apiHeaders(), 'content-type': 'application/octet-stream' },
  });
  if (!r.ok) throw new Error(`the client answered ${r.status}`);
  const j = (await r.json()) as { collateral: unknown; trusted_root: string | null };
  const input: WebDcapInput = { collateral: collateralFromPhalaJson(JSON.stringify(j.collateral)) };
  if (j.trusted_root) input.trustedRootDer = fromBase64(j.trusted_root);
  return input;
}

/** What the DCAP line of a verdict says. */
function dcapLine(r: Awaited<ReturnType<typeof verifyReceiptWeb>>): string {
  if (r.dcap) {
    const root = r.dcap.intelRoot
      ? "Intel's root"
      : 'a test root the client named (NOT Intel: a test network)';
    const adv = r.dcap.advisoryIds.length > 0 ? ` (${r.dcap.advisoryIds.join(', ')})` : '';
    return `✓ DCAP in this browser: the worker's TDX quote chains to ${root}; TCB ${r.dcap.status}${adv}; collateral valid until ${r.dcap.collateralExpiresAt.toISOString().slice(0, 10)}`;
  }
  if (r.tee === 'fake_tdx') return 'fake_tdx: a local network, no hardware attestation to check';
  return `DCAP not run here: ${r.dcapNotRun ?? 'no TDX quote'}`;
}

/** Checks the answer's receipt and privacy label here, in this browser, with WebCrypto. */
async function verifyAnswer(receipt: string, label: string, out: HTMLElement): Promise<void> {
  out.textContent = 'verifying…';
  try {
    const r = await verifyReceiptWeb(fromBase64(receipt), { dcap: collateralFor });
    const key = await labelKey();
    const fields = key ? await verifyLabelWeb(label, key) : undefined;
    const lines = [
      r.ok
        ? `✓ receipt verified in this browser: signed by worker ${short(r.workerKey)} (${r.tee}, image ${short(r.imageHash)}), countersigned by the proxy`
        : `✗ receipt NOT verified${r.overcharged ? ' (overcharged)' : ''}: ${r.problems.join('; ')}`,
      dcapLine(r),
      `${r.sealed ? 'sealed end to end: only the worker enclave saw it' : 'plain: the proxy enclave saw it too'}; model ${r.model}; ${r.totalTokens} tokens counted, ${r.chargedTokens} charged = ${ton(Number(r.chargedNanoton))}`,
      fields
        ? `✓ privacy label signed by this client: e2e=${fields.e2e}, plaintext seen by ${fields.plaintext}`
        : '✗ the privacy label does not verify against this client',
    ];
    out.textContent = lines.join('\n');
    out.classList.toggle('bad', !r.ok || !fields);
  } catch (err) {
    out.textContent = `✗ ${(err as Error).message}`;
    out.classList.add('bad');
  }
}

(document.getElementById('chat-form') as HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('chat-input') as HTMLInputElement;
  const q = input.value.trim();
  if (!q || nodes.client === undefined) return;
  input.value = '';
  void chat(q);
});

(async () => {
  nodes = (await get('/dashboard/nodes')) ?? {};
  await refresh();
  setInterval(() => void refresh(), 2000);
})();
