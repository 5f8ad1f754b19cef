// Talking to a TON chain (the devnet or testnet/mainnet through toncenter): the stock TonClient, retries on
// transient errors, and waiting for a send to be applied instead of assuming it was.

import { type Address, internal, type Sender, SendMode, toNano } from '@ton/core';
import { mnemonicNew, mnemonicToPrivateKey, mnemonicValidate } from '@ton/crypto';
import { TonClient, WalletContractV5R1 } from '@ton/ton';
import { CocoonError } from '../errors.ts';

export const DEVNET_ENDPOINT = 'http://127.0.0.1:8081/jsonRPC';

export class ChainError extends CocoonError {}

export interface ChainOptions {
  endpoint?: string;
  apiKey?: string;
}

export function openClient(opts: ChainOptions = {}): TonClient {
  const params: ConstructorParameters<typeof TonClient>[0] = {
    endpoint: opts.endpoint ?? DEVNET_ENDPOINT,
    timeout: 15_000,
  };
  if (opts.apiKey) params.apiKey = opts.apiKey;
  return new TonClient(params);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function transient(err: unknown): boolean {
  const e = err as { response?: { status?: number }; code?: string; message?: string };
  const status = e.response?.status;
  if (status !== undefined) return status === 429 || status >= 500;
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN'].includes(e.code ?? '');
}

/** Retries a chain call on transient failures (rate limits, 5xx, dropped connections) with backoff. */
export async function withRetry<T>(f: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (err) {
      if (i >= attempts || !transient(err)) throw err;
      await sleep(Math.min(8000, 250 * 2 ** i));
    }
  }
}

/** Polls until `check` holds; a send is applied when the chain says so, not when it was accepted. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await withRetry(read);
    if (check(v)) return v;
    if (Date.now() > end)
      throw new ChainError('CHAIN_TIMEOUT', `${what}: not seen on the chain within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/** An operator's wallet: a standard V5R1 wallet from a 24-word mnemonic. */
export interface OperatorWallet {
  mnemonic: string[];
  contract: WalletContractV5R1;
  secretKey: Buffer;
  /**
   * The chain's clock (unix seconds), when it may differ from this machine's (a devnet moved forward in time):
   * transfers are then valid until the chain's now plus a few minutes, not this machine's.
   */
  chainTime?: () => Promise<number>;
}

export async function newMnemonic(): Promise<string[]> {
  return mnemonicNew(24);
}

export async function walletFromMnemonic(mnemonic: string[]): Promise<OperatorWallet> {
  if (!(await mnemonicValidate(mnemonic)))
    throw new ChainError('BAD_MNEMONIC', 'not a valid 24-word TON mnemonic');
  const keys = await mnemonicToPrivateKey(mnemonic);
  return {
    mnemonic,
    contract: WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey }),
    secretKey: keys.secretKey,
  };
}

/**
 * Sends from the operator wallet through `send` (which receives a Sender) and waits until the wallet's seqno moves,
 * i.e. the external was applied.
 */
export async function sendFromWallet(
  client: TonClient,
  w: OperatorWallet,
  send: (sender: Sender) => Promise<unknown>,
): Promise<void> {
  const wallet = client.open(w.contract);
  const seqno = await withRetry(() => wallet.getSeqno());
  let sender = wallet.sender(w.secretKey);
  if (w.chainTime) {
    const now = await w.chainTime();
    sender = {
      address: w.contract.address,
      send: async (args) => {
        const transfer = wallet.createTransfer({
          seqno: await wallet.getSeqno(),
          secretKey: w.secretKey,
          timeout: now + 600,
          sendMode: args.sendMode ?? SendMode.PAY_GAS_SEPARATELY + SendMode.IGNORE_ERRORS,
          messages: [
            internal({
              to: args.to,
              value: args.value,
              init: args.init,
              body: args.body,
              bounce: args.bounce,
            }),
          ],
        });
        await wallet.send(transfer);
      },
    };
  }
  const s = sender;
  await withRetry(() => send(s));
  await waitFor(
    'the wallet transaction',
    () => wallet.getSeqno(),
    (s) => s > seqno,
  );
}

/** Transfers TON from the operator wallet and waits for it to be applied. */
export function transfer(
  client: TonClient,
  w: OperatorWallet,
  to: Address,
  amount: bigint,
  bounce = false,
): Promise<void> {
  return sendFromWallet(client, w, (sender) =>
    sender.send({
      to,
      value: amount,
      bounce,
      sendMode: SendMode.PAY_GAS_SEPARATELY | SendMode.IGNORE_ERRORS,
    }),
  );
}

/** Parses a TON amount ("1.5") to nanoTON, exactly. */
export function parseTon(s: string): bigint {
  if (!/^\d+(\.\d{1,9})?$/.test(s)) throw new ChainError('BAD_AMOUNT', `not a TON amount: ${s}`);
  return toNano(s);
}

/** nanoTON as TON text, exactly. */
export function formatTon(n: bigint): string {
  const neg = n < 0n;
  const a = neg ? -n : n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${a / 1_000_000_000n}${frac ? `.${frac}` : ''}`;
}

/** Asks the devnet's faucet for TON (devnet only). */
export async function devnetFund(endpoint: string, address: Address, amount: bigint): Promise<void> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id: 1,
      jsonrpc: '2.0',
      method: 'devnet_fund',
      params: { address: address.toString(), amount: amount.toString() },
    }),
  });
  const body = (await res.json()) as { ok: boolean; error?: string };
  if (!body.ok)
    throw new ChainError(
      'DEVNET_FUND',
      `the endpoint refused devnet_fund (not a devnet?): ${body.error ?? res.status}`,
    );
}
