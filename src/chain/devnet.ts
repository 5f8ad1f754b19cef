// The embedded devnet: the @ton/sandbox emulator behind a toncenter-v2 compatible JSON-RPC, so the stock
// `TonClient` of @ton/ton talks to it from any process exactly as to testnet. Calls are serialised; every
// acknowledged change is on disk before the answer (an atomic snapshot), so `kill -9` loses nothing; memory stays
// bounded (sandbox's own transaction list is cleared, each account keeps its newest transactions); an optional
// block delay makes sends take effect later, as on a real chain.

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  Address,
  beginCell,
  Cell,
  loadMessage,
  loadTransaction,
  type Message,
  storeTransaction,
  type Transaction,
  type TupleItem,
} from '@ton/core';
import {
  Blockchain,
  type BlockchainTransaction,
  snapshotFromSerializable,
  snapshotToSerializable,
} from '@ton/sandbox';
import { CocoonError } from '../errors.ts';

/** A devnet call failed: unknown method, bad parameters, a message the chain refused. */
export class DevnetError extends CocoonError {}

export interface DevnetOptions {
  /** Where state is kept; without it the devnet lives in memory only. */
  dir?: string;
  /** Sends take effect this many ms after they are acknowledged (default 0: at once). */
  blockDelayMs?: number;
  /** Newest transactions kept per account (default 256). */
  maxTxPerAccount?: number;
}

interface StoredTx {
  boc: string;
  lt: string;
  hash: string;
  utime: number;
}

interface State {
  version: 1;
  snapshot: ReturnType<typeof snapshotToSerializable>;
  timeOffset: number;
  lastNow: number;
  seqno: number;
  txs: Record<string, StoredTx[]>;
  pending: { boc: string; due: number }[];
}

const FAUCET_BALANCE = 1_000_000_000_000_000n; // 1,000,000 TON

type Params = Record<string, unknown>;

function str(p: Params, k: string): string {
  const v = p[k];
  if (typeof v !== 'string' || v === '')
    throw new DevnetError('DEVNET_BAD_PARAMS', `parameter ${k} is required`);
  return v;
}

function address(p: Params, k = 'address'): Address {
  try {
    return Address.parse(str(p, k));
  } catch (err) {
    if (err instanceof DevnetError) throw err;
    throw new DevnetError('DEVNET_BAD_PARAMS', `${k} is not an address`);
  }
}

const b64 = (c: Cell) => c.toBoc().toString('base64');
const hex64 = (n: bigint) => n.toString(16).padStart(64, '0');

/** toncenter's result stack encoding, which TonClient's parser reads. */
function toStackItem(t: TupleItem): unknown {
  switch (t.type) {
    case 'int':
      return ['num', t.value < 0n ? `-0x${(-t.value).toString(16)}` : `0x${t.value.toString(16)}`];
    case 'null':
      return ['null'];
    case 'cell':
      return ['cell', { bytes: b64(t.cell) }];
    case 'slice':
      return ['slice', { bytes: b64(t.cell) }];
    case 'builder':
      return ['builder', { bytes: b64(t.cell) }];
    case 'tuple':
      return ['tuple', { elements: t.items.map(toStackEntry) }];
    default:
      throw new DevnetError('DEVNET_UNSUPPORTED', `stack item ${t.type} cannot be returned`);
  }
}

function toStackEntry(t: TupleItem): unknown {
  switch (t.type) {
    case 'int':
      return {
        '@type': 'tvm.stackEntryNumber',
        number: { '@type': 'tvm.numberDecimal', number: t.value.toString() },
      };
    case 'cell':
      return { '@type': 'tvm.stackEntryCell', cell: { '@type': 'tvm.cell', bytes: b64(t.cell) } };
    case 'slice':
      return { '@type': 'tvm.stackEntrySlice', slice: { '@type': 'tvm.slice', bytes: b64(t.cell) } };
    case 'tuple':
      return {
        '@type': 'tvm.stackEntryTuple',
        tuple: { '@type': 'tvm.tuple', elements: t.items.map(toStackEntry) },
      };
    case 'null':
      return { '@type': 'tvm.stackEntryTuple', tuple: { '@type': 'tvm.tuple', elements: [] } };
    default:
      throw new DevnetError('DEVNET_UNSUPPORTED', `stack item ${t.type} cannot be returned`);
  }
}

function fromStackItem(s: unknown): TupleItem {
  if (!Array.isArray(s) || typeof s[0] !== 'string')
    throw new DevnetError('DEVNET_BAD_PARAMS', 'bad stack item');
  const [kind, v] = s as [string, unknown];
  const cell = () => Cell.fromBase64(String(v));
  switch (kind) {
    case 'num':
    case 'int': {
      const t = String(v);
      return { type: 'int', value: t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t) };
    }
    case 'tvm.Cell':
    case 'cell':
      return { type: 'cell', cell: cell() };
    case 'tvm.Slice':
    case 'slice':
      return { type: 'slice', cell: cell() };
    case 'tvm.Builder':
      return { type: 'builder', cell: cell() };
    default:
      throw new DevnetError('DEVNET_BAD_PARAMS', `unsupported stack item ${kind}`);
  }
}

function messageJson(m: Message | undefined | null): Record<string, unknown> | undefined {
  if (!m) return undefined;
  const info = m.info;
  const body = m.body;
  const src = info.type === 'internal' || info.type === 'external-out' ? info.src.toString() : '';
  const dest = info.type === 'internal' || info.type === 'external-in' ? info.dest.toString() : '';
  return {
    source: src,
    destination: dest,
    value: info.type === 'internal' ? info.value.coins.toString() : '0',
    fwd_fee: info.type === 'internal' ? info.forwardFee.toString() : '0',
    ihr_fee: info.type === 'internal' ? info.ihrFee.toString() : '0',
    created_lt: info.type === 'external-in' ? '0' : info.createdLt.toString(),
    body_hash: body.hash().toString('base64'),
    msg_data: { '@type': 'msg.dataRaw', body: b64(body), init_state: '' },
    message: '',
  };
}

function txJson(t: StoredTx): Record<string, unknown> {
  const tx: Transaction = loadTransaction(Cell.fromBase64(t.boc).beginParse());
  const outs: Record<string, unknown>[] = [];
  for (const m of tx.outMessages.values()) {
    const j = messageJson(m);
    if (j) outs.push(j);
  }
  return {
    '@type': 'raw.transaction',
    data: t.boc,
    utime: t.utime,
    transaction_id: { '@type': 'internal.transactionId', lt: t.lt, hash: t.hash },
    fee: tx.totalFees.coins.toString(),
    storage_fee: '0',
    other_fee: '0',
    in_msg: messageJson(tx.inMessage),
    out_msgs: outs,
  };
}

/**
 * @example
 * const devnet = await Devnet.open({ dir: '.cocoon/devnet' });
 * const endpoint = await devnet.listen(8081); // http://127.0.0.1:8081/jsonRPC
 * const client = new TonClient({ endpoint });
 */
export class Devnet {
  private queue: Promise<unknown> = Promise.resolve();
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxTx: number;

  private constructor(
    private readonly bc: Blockchain,
    private readonly faucet: Awaited<ReturnType<Blockchain['treasury']>>,
    private state: Omit<State, 'snapshot'>,
    private readonly opts: DevnetOptions,
  ) {
    this.maxTx = opts.maxTxPerAccount ?? 256;
  }

  /** Opens the devnet, restoring its state from `dir` when there is one. */
  static async open(opts: DevnetOptions = {}): Promise<Devnet> {
    const bc = await Blockchain.create();
    let saved: State | undefined;
    const file = opts.dir ? join(opts.dir, 'state.json') : undefined;
    if (file && existsSync(file)) {
      saved = JSON.parse(readFileSync(file, 'utf8')) as State;
      await bc.loadFrom(snapshotFromSerializable(saved.snapshot));
    }
    const state = saved
      ? {
          version: 1 as const,
          timeOffset: saved.timeOffset,
          lastNow: saved.lastNow,
          seqno: saved.seqno,
          txs: saved.txs,
          pending: saved.pending,
        }
      : { version: 1 as const, timeOffset: 0, lastNow: 0, seqno: 1, txs: {}, pending: [] };
    state.lastNow = Math.max(Math.floor(Date.now() / 1000) + state.timeOffset, state.lastNow);
    bc.now = state.lastNow;
    const faucet = await bc.treasury('cocoon-devnet-faucet', {
      balance: FAUCET_BALANCE,
      resetBalanceIfZero: true,
    });
    const d = new Devnet(bc, faucet, state, opts);
    if (opts.dir) mkdirSync(opts.dir, { recursive: true });
    // Sends acknowledged before a crash and not yet applied are applied now.
    await d.serial(() => d.applyDue(true));
    d.save();
    return d;
  }

  /** The devnet's clock: wall time plus the advanced offset, never going backwards. */
  private tick(): number {
    const now = Math.max(Math.floor(Date.now() / 1000) + this.state.timeOffset, this.state.lastNow);
    this.state.lastNow = now;
    this.bc.now = now;
    return now;
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => {});
    return p;
  }

  private record(txs: BlockchainTransaction[]): void {
    for (const tx of txs) {
      const key = new Address(0, Buffer.from(hex64(tx.address), 'hex')).toRawString();
      const cell = beginCell().store(storeTransaction(tx)).endCell();
      const list = this.state.txs[key] ?? [];
      list.push({
        boc: b64(cell),
        lt: tx.lt.toString(),
        hash: cell.hash().toString('base64'),
        utime: tx.now,
      });
      if (list.length > this.maxTx) list.splice(0, list.length - this.maxTx);
      this.state.txs[key] = list;
    }
    // Sandbox keeps every transaction it ran; the devnet keeps its own bounded index instead.
    (this.bc as unknown as { transactions: unknown[] }).transactions.length = 0;
    this.state.seqno++;
  }

  /** Writes the whole state atomically: temp file, fsync, rename, fsync of the folder. */
  private save(): void {
    if (!this.opts.dir) return;
    const file = join(this.opts.dir, 'state.json');
    const tmp = `${file}.tmp`;
    const state: State = { ...this.state, snapshot: snapshotToSerializable(this.bc.snapshot()) };
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    const dfd = openSync(this.opts.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  private async apply(boc: string): Promise<void> {
    let msg: Message;
    try {
      msg = loadMessage(Cell.fromBase64(boc).beginParse());
    } catch (err) {
      throw new DevnetError('DEVNET_BAD_BOC', 'the BoC is not a message', { cause: err });
    }
    this.tick();
    let txs: BlockchainTransaction[];
    try {
      txs = (await this.bc.sendMessage(msg)).transactions;
    } catch (err) {
      throw new DevnetError(
        'DEVNET_REJECTED',
        `the message was not accepted: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    this.record(txs);
  }

  /** Applies delayed sends whose time has come (all of them with `all`). */
  private async applyDue(all = false): Promise<void> {
    const now = Date.now();
    while (this.state.pending.length > 0 && (all || (this.state.pending[0] as { due: number }).due <= now)) {
      const p = this.state.pending.shift() as { boc: string };
      await this.apply(p.boc).catch(() => {}); // a refused external just never lands, as on a real chain
    }
    this.save();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.state.pending[0];
    if (!next) return;
    this.timer = setTimeout(
      () => void this.serial(() => this.applyDue()),
      Math.max(0, next.due - Date.now()),
    );
    this.timer.unref();
  }

  private blockId() {
    return {
      '@type': 'ton.blockIdExt',
      workchain: -1,
      shard: '-9223372036854775808',
      seqno: this.state.seqno,
      root_hash: '',
      file_hash: '',
    };
  }

  /** Runs one JSON-RPC method. */
  call(method: string, params: Params = {}): Promise<unknown> {
    const f = this.methods[method];
    if (!f) return Promise.reject(new DevnetError('DEVNET_UNKNOWN_METHOD', `unknown method ${method}`));
    return this.serial(() => f(params));
  }

  private readonly methods: Record<string, (p: Params) => Promise<unknown>> = {
    getMasterchainInfo: async () => ({
      '@type': 'blocks.masterchainInfo',
      state_root_hash: '',
      last: this.blockId(),
      init: this.blockId(),
    }),
    getAddressInformation: async (p) => this.addressInfo(address(p)),
    getAddressBalance: async (p) => (await this.addressInfo(address(p))).balance,
    getAddressState: async (p) => (await this.addressInfo(address(p))).state,
    runGetMethod: async (p) => {
      this.tick();
      const stack = Array.isArray(p.stack) ? p.stack.map(fromStackItem) : [];
      const method = p.method;
      if (typeof method !== 'string' && typeof method !== 'number')
        throw new DevnetError('DEVNET_BAD_PARAMS', 'method is required');
      const r = await this.bc.runGetMethod(address(p), method, stack);
      return {
        '@type': 'smc.runResult',
        gas_used: Number(r.gasUsed),
        exit_code: r.exitCode,
        stack: r.stack.map(toStackItem),
      };
    },
    sendBoc: async (p) => {
      await this.send(str(p, 'boc'));
      return { '@type': 'ok' };
    },
    sendBocReturnHash: async (p) => {
      const boc = str(p, 'boc');
      await this.send(boc);
      return { '@type': 'raw.extMessageInfo', hash: Cell.fromBase64(boc).hash().toString('base64') };
    },
    getTransactions: async (p) => {
      const key = address(p).toRawString();
      const list = this.state.txs[key] ?? [];
      const limit = Math.max(1, Math.min(Number(p.limit ?? 10), 100));
      let start = list.length - 1;
      if (p.lt !== undefined) {
        const lt = String(p.lt);
        const hash = typeof p.hash === 'string' ? p.hash : undefined;
        const norm = (h: string) =>
          /^[0-9a-fA-F]{64}$/.test(h) ? Buffer.from(h, 'hex').toString('base64') : h;
        start = list.findLastIndex((t) => t.lt === lt && (hash === undefined || t.hash === norm(hash)));
        if (start < 0) return [];
      }
      const out: Record<string, unknown>[] = [];
      for (let i = start; i >= 0 && out.length < limit; i--) out.push(txJson(list[i] as StoredTx));
      return out;
    },
    estimateFee: async (p) => {
      // Runs the external message on a throwaway copy of the state and reports what it cost.
      this.tick();
      const dest = address(p);
      const body = Cell.fromBase64(str(p, 'body'));
      const code = typeof p.init_code === 'string' && p.init_code ? Cell.fromBase64(p.init_code) : undefined;
      const data = typeof p.init_data === 'string' && p.init_data ? Cell.fromBase64(p.init_data) : undefined;
      const snap = this.bc.snapshot();
      try {
        const msg: Message = {
          info: { type: 'external-in', dest, importFee: 0n },
          body,
          ...(code && data ? { init: { code, data } } : {}),
        };
        const r = await this.bc.sendMessage(msg);
        const tx = r.transactions[0];
        const d = tx?.description;
        const gas = d && d.type === 'generic' && d.computePhase.type === 'vm' ? d.computePhase.gasFees : 0n;
        const storage = d && d.type === 'generic' ? (d.storagePhase?.storageFeesCollected ?? 0n) : 0n;
        const fwd = d && d.type === 'generic' ? (d.actionPhase?.totalFwdFees ?? 0n) : 0n;
        return {
          '@type': 'query.fees',
          source_fees: {
            '@type': 'fees',
            in_fwd_fee: Number(tx ? tx.totalFees.coins - gas - storage : 0n),
            storage_fee: Number(storage),
            gas_fee: Number(gas),
            fwd_fee: Number(fwd),
          },
          destination_fees: [],
        };
      } catch (err) {
        throw new DevnetError(
          'DEVNET_REJECTED',
          `the message would not be accepted: ${err instanceof Error ? err.message : String(err)}`,
        );
      } finally {
        await this.bc.loadFrom(snap);
        (this.bc as unknown as { transactions: unknown[] }).transactions.length = 0;
      }
    },
    devnet_fund: async (p) => {
      this.tick();
      const amount = BigInt(str(p, 'amount'));
      if (amount <= 0n) throw new DevnetError('DEVNET_BAD_PARAMS', 'amount must be positive');
      const r = await this.faucet.send({ to: address(p), value: amount, bounce: false });
      this.record(r.transactions);
      this.save();
      return { ok: true };
    },
    devnet_advanceTime: async (p) => {
      const s = Number(p.seconds);
      if (!Number.isSafeInteger(s) || s < 0)
        throw new DevnetError('DEVNET_BAD_PARAMS', 'seconds must be a non-negative integer');
      this.state.timeOffset += s;
      const now = this.tick();
      this.save();
      return { now };
    },
    devnet_info: async () => ({
      now: this.tick(),
      seqno: this.state.seqno,
      accounts: Object.keys(this.state.txs).length,
      pending: this.state.pending.length,
      faucet: this.faucet.address.toString(),
      persistent: this.opts.dir !== undefined,
    }),
  };

  private async send(boc: string): Promise<void> {
    const delay = this.opts.blockDelayMs ?? 0;
    if (delay <= 0) {
      await this.apply(boc);
      this.save();
      return;
    }
    try {
      loadMessage(Cell.fromBase64(boc).beginParse());
    } catch (err) {
      throw new DevnetError('DEVNET_BAD_BOC', 'the BoC is not a message', { cause: err });
    }
    this.state.pending.push({ boc, due: Date.now() + delay });
    this.save(); // acknowledged only once it is on disk
    this.schedule();
  }

  private async addressInfo(a: Address) {
    const c = await this.bc.getContract(a);
    const st = c.accountState;
    const active = st?.type === 'active' ? st.state : undefined;
    return {
      '@type': 'raw.fullAccountState',
      balance: c.balance.toString(),
      extra_currencies: [],
      state: st?.type === 'active' ? 'active' : st?.type === 'frozen' ? 'frozen' : 'uninitialized',
      code: active?.code ? b64(active.code) : '',
      data: active?.data ? b64(active.data) : '',
      last_transaction_id: {
        '@type': 'internal.transactionId',
        lt: c.lastTransactionLt.toString(),
        hash: Buffer.from(hex64(c.lastTransactionHash), 'hex').toString('base64'),
      },
      block_id: this.blockId(),
      frozen_hash: '',
      sync_utime: this.tick(),
    };
  }

  /** Serves toncenter-v2 JSON-RPC on POST /jsonRPC (and /api/v2/jsonRPC). Binds 127.0.0.1 only. */
  async listen(port: number): Promise<string> {
    const server = createServer((req, res) => {
      const url = (req.url ?? '').split('?')[0];
      if (req.method !== 'POST' || (url !== '/jsonRPC' && url !== '/api/v2/jsonRPC')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'POST /jsonRPC', code: 404 }));
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
        if (body.length > 16 * 1024 * 1024) req.destroy();
      });
      req.on('end', () => {
        let rpc: { id?: unknown; method?: unknown; params?: unknown };
        try {
          rpc = JSON.parse(body) as typeof rpc;
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, error: 'the body is not JSON', code: 400 }));
          return;
        }
        const id = rpc.id ?? null;
        this.call(String(rpc.method), (rpc.params ?? {}) as Params).then(
          (result) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ ok: true, result, id, jsonrpc: '2.0' }));
          },
          (err: unknown) => {
            const known = err instanceof DevnetError;
            res.writeHead(known ? 400 : 500, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                ok: false,
                error: err instanceof Error ? err.message : String(err),
                code: known ? 400 : 500,
                id,
                jsonrpc: '2.0',
              }),
            );
          },
        );
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jsonRPC`;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.queue;
    const s = this.server;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}
