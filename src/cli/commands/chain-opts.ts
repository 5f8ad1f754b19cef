import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Address } from '@ton/core';
import {
  ChainError,
  type ChainOptions,
  type OperatorWallet,
  walletFromMnemonic,
} from '../../chain/client.ts';

/** Options every chain command takes. */
export const chainOptions = {
  endpoint: { type: 'string' },
  'api-key': { type: 'string' },
  wallet: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const chainUsage = [
  '  --endpoint URL   toncenter-v2 JSON-RPC (default: the devnet, http://127.0.0.1:8081/jsonRPC;',
  '                   testnet: https://testnet.toncenter.com/api/v2/jsonRPC)',
  '  --api-key K      toncenter API key',
  '  --wallet FILE    the operator wallet (default .cocoon/wallet.json)',
].join('\n');

export function chainOf(v: { endpoint?: string | undefined; 'api-key'?: string | undefined }): ChainOptions {
  const o: ChainOptions = {};
  if (v.endpoint) o.endpoint = v.endpoint;
  if (v['api-key']) o.apiKey = v['api-key'];
  return o;
}

export const walletPath = (v: { wallet?: string | undefined }) => v.wallet ?? '.cocoon/wallet.json';

export async function loadWallet(file: string): Promise<OperatorWallet> {
  if (!existsSync(file)) throw new ChainError('NO_WALLET', `no wallet at ${file}: run cocoon wallet new`);
  const o = JSON.parse(readFileSync(file, 'utf8')) as { mnemonic?: unknown };
  if (!Array.isArray(o.mnemonic)) throw new ChainError('BAD_WALLET', `${file} holds no mnemonic`);
  return walletFromMnemonic(o.mnemonic.map(String));
}

export function saveJson(file: string, value: unknown, secret = false): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, secret ? { mode: 0o600 } : {});
}

export function parseAddress(s: string): Address {
  try {
    return Address.parse(s);
  } catch {
    throw new ChainError('BAD_ADDRESS', `not a TON address: ${s}`);
  }
}
