import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ChainError,
  devnetFund,
  formatTon,
  newMnemonic,
  openClient,
  parseTon,
  transfer,
  waitFor,
  walletFromMnemonic,
  withRetry,
} from '../../chain/client.ts';
import type { Command } from '../main.ts';
import {
  chainOf,
  chainOptions,
  chainUsage,
  loadWallet,
  parseAddress,
  saveJson,
  walletPath,
} from './chain-opts.ts';

const usage = [
  'Usage:',
  '  cocoon wallet new [--force]          create an operator wallet (24-word mnemonic, V5R1) in --wallet',
  '  cocoon wallet address                print its address',
  '  cocoon wallet balance [ADDRESS]      balance of the wallet (or of ADDRESS), in TON',
  '  cocoon wallet send TO AMOUNT         send AMOUNT TON to TO and wait until it is applied',
  '  cocoon wallet fund AMOUNT            devnet only: get AMOUNT TON from the devnet faucet',
  '',
  chainUsage,
  '',
  'The wallet file holds the mnemonic (mode 0600): whoever reads it controls the funds.',
].join('\n');

export const wallet: Command = {
  summary: 'an operator TON wallet: new, address, balance, send (devnet or testnet)',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...chainOptions, force: { type: 'boolean' } },
    });
    const [sub, ...args] = positionals;
    const file = walletPath(values);
    const out = (text: string, json: unknown) =>
      process.stdout.write(values.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
    switch (sub) {
      case 'new': {
        if (existsSync(file) && !values.force)
          throw new ChainError('WALLET_EXISTS', `${file} exists (use --force to replace it)`);
        const mnemonic = await newMnemonic();
        const w = await walletFromMnemonic(mnemonic);
        const address = w.contract.address.toString({ testOnly: true, bounceable: false });
        saveJson(file, { mnemonic, address }, true);
        out(`wallet ${address} written to ${file}`, { address, file });
        return 0;
      }
      case 'address': {
        const w = await loadWallet(file);
        const address = w.contract.address.toString({ testOnly: true, bounceable: false });
        out(address, { address });
        return 0;
      }
      case 'balance': {
        const client = openClient(chainOf(values));
        const target = args[0] ? parseAddress(args[0]) : (await loadWallet(file)).contract.address;
        const nano = await withRetry(() => client.getBalance(target));
        out(`${formatTon(nano)} TON`, { address: target.toString(), balance: nano.toString() });
        return 0;
      }
      case 'send': {
        const [to, amount] = args;
        if (!to || !amount) {
          process.stderr.write(`${usage}\n`);
          return 2;
        }
        const w = await loadWallet(file);
        const dest = parseAddress(to);
        await transfer(openClient(chainOf(values)), w, dest, parseTon(amount));
        out(`sent ${amount} TON to ${dest.toString()}`, {
          to: dest.toString(),
          amount: parseTon(amount).toString(),
        });
        return 0;
      }
      case 'fund': {
        const amount = args[0];
        if (!amount) {
          process.stderr.write(`${usage}\n`);
          return 2;
        }
        const w = await loadWallet(file);
        const client = openClient(chainOf(values));
        const before = await withRetry(() => client.getBalance(w.contract.address));
        await devnetFund(
          chainOf(values).endpoint ?? 'http://127.0.0.1:8081/jsonRPC',
          w.contract.address,
          parseTon(amount),
        );
        const after = await waitFor(
          'the faucet transfer',
          () => client.getBalance(w.contract.address),
          (b) => b > before,
        );
        out(`balance ${formatTon(after)} TON`, { balance: after.toString() });
        return 0;
      }
      default:
        process.stderr.write(`${usage}\n`);
        return 2;
    }
  },
};
