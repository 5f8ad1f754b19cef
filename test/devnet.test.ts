import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Address, beginCell, internal, loadTransaction, SendMode, toNano } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { TonClient, WalletContractV5R1 } from '@ton/ton';
import { compileContract } from '../src/chain/compile.ts';
import { Devnet } from '../src/chain/devnet.ts';
import { defaultParams, Root } from '../src/chain/root.ts';

const bin = new URL('../bin/cocoon.js', import.meta.url).pathname;

async function rpc(endpoint: string, method: string, params: Record<string, unknown>) {
  const res = await fetch(endpoint, {
    method: 'POST',
    body: JSON.stringify({ id: 1, jsonrpc: '2.0', method, params }),
  });
  const body = (await res.json()) as { ok: boolean; result?: unknown; error?: string };
  if (!body.ok) throw new Error(body.error);
  return body.result;
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`condition not reached, last value ${String(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function wallet() {
  const keys = keyPairFromSeed(randomBytes(32));
  return { keys, contract: WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey }) };
}

test('stock TonClient funds, deploys and uses a wallet through the devnet, and reads its transactions', async (t) => {
  const devnet = await Devnet.open();
  const endpoint = await devnet.listen(0);
  t.after(() => devnet.close());
  const client = new TonClient({ endpoint });
  const { keys, contract } = wallet();
  const w = client.open(contract);
  await rpc(endpoint, 'devnet_fund', { address: w.address.toString(), amount: toNano('10').toString() });
  assert.equal(await client.getBalance(w.address), toNano('10'));
  assert.equal(await client.isContractDeployed(w.address), false);

  const dest = Address.parse(`0:${'ab'.repeat(32)}`);
  await w.sendTransfer({
    seqno: 0,
    secretKey: keys.secretKey,
    sendMode: SendMode.PAY_GAS_SEPARATELY | SendMode.IGNORE_ERRORS,
    messages: [internal({ to: dest, value: toNano('1.5'), bounce: false })],
  });
  assert.equal(
    await until(
      () => w.getSeqno(),
      (s) => s === 1,
    ),
    1,
  );
  assert.equal(await client.getBalance(dest), toNano('1.5'));
  assert.equal(await client.isContractDeployed(w.address), true);

  const txs = await client.getTransactions(w.address, { limit: 10 });
  assert.equal(txs.length, 2); // funding, then the external that deployed and sent
  assert.ok(txs[0]!.lt > txs[1]!.lt, 'newest first');
  const paged = await client.getTransactions(w.address, {
    limit: 1,
    lt: txs[0]!.lt.toString(),
    hash: txs[0]!.hash().toString('base64'),
    inclusive: true,
  });
  assert.equal(paged[0]?.lt, txs[0]!.lt);

  // A replayed external (same seqno) is refused, as a real chain refuses it.
  await assert.rejects(
    w.sendTransfer({
      seqno: 0,
      secretKey: keys.secretKey,
      sendMode: SendMode.PAY_GAS_SEPARATELY,
      messages: [internal({ to: dest, value: 1n })],
    }),
  );

  const fee = await client.estimateExternalMessageFee(w.address, {
    body: w.createTransfer({
      seqno: 1,
      secretKey: keys.secretKey,
      sendMode: SendMode.PAY_GAS_SEPARATELY,
      messages: [internal({ to: dest, value: 1n })],
    }),
    initCode: null,
    initData: null,
    ignoreSignature: false,
  });
  assert.ok(fee.source_fees.gas_fee > 0);
  assert.equal(await w.getSeqno(), 1, 'estimating a fee changes nothing');

  const before = ((await rpc(endpoint, 'devnet_info', {})) as { now: number }).now;
  await rpc(endpoint, 'devnet_advanceTime', { seconds: 3600 });
  const after = ((await rpc(endpoint, 'devnet_info', {})) as { now: number }).now;
  assert.ok(after >= before + 3600);
  await assert.rejects(rpc(endpoint, 'nope', {}), /unknown method/);
  await assert.rejects(rpc(endpoint, 'sendBoc', { boc: 'AAAA' }), /not a message/);
});

function startDevnet(dir: string, extra: string[] = []): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, [bin, 'devnet', '--port', '0', '--dir', dir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /devnet: (\S+)/.exec(l);
      if (m) resolve({ child, endpoint: m[1] as string });
    });
    child.once('exit', (code) => reject(new Error(`devnet exited ${code}: ${err}`)));
  });
}

test('cocoon devnet in another process survives kill -9 with every acknowledged change, delayed sends included', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-devnet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A chain that is not instant: sends land 1.5 s after they are accepted.
  let node = await startDevnet(dir, ['--block-delay', '1500']);
  t.after(() => node.child.kill('SIGKILL'));
  const client = new TonClient({ endpoint: node.endpoint });
  const { keys, contract } = wallet();
  const w = client.open(contract);
  await rpc(node.endpoint, 'devnet_fund', { address: w.address.toString(), amount: toNano('5').toString() });
  const dest = Address.parse(`0:${'cd'.repeat(32)}`);
  await w.sendTransfer({
    seqno: 0,
    secretKey: keys.secretKey,
    sendMode: SendMode.PAY_GAS_SEPARATELY,
    messages: [internal({ to: dest, value: toNano('2'), bounce: false })],
  });
  assert.equal(await w.getSeqno(), 0, 'accepted, not yet applied');
  node.child.kill('SIGKILL');
  await new Promise((r) => node.child.once('exit', r));

  node = await startDevnet(dir);
  const client2 = new TonClient({ endpoint: node.endpoint });
  const w2 = client2.open(contract);
  assert.equal(await w2.getSeqno(), 1, 'the acknowledged send was applied after the restart');
  assert.equal(await client2.getBalance(dest), toNano('2'));
  const txs = await client2.getTransactions(w.address, { limit: 5 });
  assert.equal(txs.length, 2);
  assert.ok(loadTransaction(txs[0]!.raw.beginParse()).lt > 0n);

  node.child.kill('SIGKILL');
  await new Promise((r) => node.child.once('exit', r));
  node = await startDevnet(dir);
  assert.equal(await new TonClient({ endpoint: node.endpoint }).getBalance(dest), toNano('2'));
  node.child.kill('SIGTERM');
  assert.equal(await new Promise((r) => node.child.once('exit', r)), 0);
});

test('another process deploys the root through cocoon devnet with stock TonClient and reads it back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-devnet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const node = await startDevnet(dir);
  t.after(() => node.child.kill('SIGKILL'));
  const client = new TonClient({ endpoint: node.endpoint });
  const { keys, contract } = wallet();
  const w = client.open(contract);
  await rpc(node.endpoint, 'devnet_fund', { address: w.address.toString(), amount: toNano('10').toString() });

  const code = await compileContract('root');
  const root = client.open(
    Root.createFromConfig({ owner: w.address, params: defaultParams({ uniqueId: 42 }) }, code),
  );
  await w.sendTransfer({
    seqno: 0,
    secretKey: keys.secretKey,
    sendMode: SendMode.PAY_GAS_SEPARATELY,
    messages: [
      internal({ to: root.address, value: toNano('1'), init: root.init!, body: beginCell().endCell() }),
    ],
  });
  await until(
    () => client.isContractDeployed(root.address),
    (d) => d,
  );
  const sender = w.sender(keys.secretKey);
  await root.sendAddWorkerType(sender, 0xabcn);
  await until(
    () => root.getWorkerHashIsValid(0xabcn),
    (v) => v,
  );
  await root.sendRegisterProxy(w.sender(keys.secretKey), {
    workers: '127.0.0.1:11001',
    clients: '127.0.0.1:11002',
  });
  await until(
    () => root.getLastProxySeqno(),
    (n) => n === 1,
  );

  const data = await root.getCocoonData();
  assert.equal(data.uniqueId, 42);
  assert.equal(data.version, 2);
  assert.ok(data.owner.equals(w.address));
  const st = await root.getState();
  assert.deepEqual(st.proxies.get(1), { workers: '127.0.0.1:11001', clients: '127.0.0.1:11002' });
  assert.equal((await root.getParams()).uniqueId, 42);
});

test('the devnet keeps a bounded number of transactions per account', async (t) => {
  const devnet = await Devnet.open({ maxTxPerAccount: 5 });
  const endpoint = await devnet.listen(0);
  t.after(() => devnet.close());
  const target = Address.parse(`0:${'12'.repeat(32)}`);
  for (let i = 0; i < 8; i++)
    await rpc(endpoint, 'devnet_fund', { address: target.toString(), amount: '1000' });
  const client = new TonClient({ endpoint });
  assert.equal((await client.getTransactions(target, { limit: 100 })).length, 5);
  // Every funding landed; an account with no code pays storage fees as time passes (a nanoTON here and there).
  const balance = await client.getBalance(target);
  assert.ok(balance <= 8000n && balance > 7900n, `balance ${balance}`);
});
