import { randomBytes } from 'node:crypto';
import { internal, type Transaction, toNano } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { Blockchain } from '@ton/sandbox';
import { ClientContract } from '../src/chain/client-contract.ts';
import { compileContract } from '../src/chain/compile.ts';
import { defaultParams, Root } from '../src/chain/root.ts';
import { SIGNED_OP, signedMessage } from '../src/chain/signed.ts';
import { CocoonWallet } from '../src/chain/wallet.ts';
import { WorkerContract } from '../src/chain/worker.ts';
import type { Benchmark } from '../src/cli/commands/bench.ts';

interface Cost {
  gas: number;
  /** Fees of the contract's own transaction, nanoTON. */
  fee_nano: string;
  /** Every fee of the operation's cascade (sender's transaction included), nanoTON. */
  total_fee_nano: string;
}

function costOf(txs: Transaction[], addr: bigint): Cost {
  const tx = txs.find((t) => t.address === addr);
  if (!tx) throw new Error('no transaction on the contract');
  const d = tx.description;
  const gas = d.type === 'generic' && d.computePhase.type === 'vm' ? Number(d.computePhase.gasUsed) : 0;
  const total = txs.reduce((s, t) => s + t.totalFees.coins, 0n);
  return { gas, fee_nano: tx.totalFees.coins.toString(), total_fee_nano: total.toString() };
}

/** Gas and fees of each contract operation, measured in the emulator. */
export const contractsBench: Benchmark = {
  summary: 'gas and fees of each contract operation (emulated)',
  async run() {
    const chain = await Blockchain.create();
    chain.now = 1_800_000_000;
    const owner = await chain.treasury('owner');
    const rootCode = await compileContract('root');
    const root = chain.openContract(
      Root.createFromConfig({ owner: owner.address, params: defaultParams() }, rootCode),
    );
    const addr = (c: { address: { hash: Buffer } }) => BigInt(`0x${c.address.hash.toString('hex')}`);
    const out: Record<string, unknown> = {};
    out.root_deploy = costOf(
      (await root.sendDeploy(owner.getSender(), toNano('1'))).transactions,
      addr(root),
    );
    out.root_add_worker_hash = costOf(
      (await root.sendAddWorkerType(owner.getSender(), 1n)).transactions,
      addr(root),
    );
    for (let i = 2n; i < 50n; i++) await root.sendAddWorkerType(owner.getSender(), i);
    out.root_add_worker_hash_50th = costOf(
      (await root.sendAddWorkerType(owner.getSender(), 50n)).transactions,
      addr(root),
    );
    out.root_register_proxy = costOf(
      (
        await root.sendRegisterProxy(owner.getSender(), {
          workers: '10.0.0.1:11001',
          clients: '10.0.0.1:11002',
        })
      ).transactions,
      addr(root),
    );
    out.root_change_params = costOf(
      (await root.sendChangePrice(owner.getSender(), 30n, 20n)).transactions,
      addr(root),
    );

    const keys = keyPairFromSeed(randomBytes(32));
    const wallet = chain.openContract(
      CocoonWallet.createFromConfig(
        { publicKey: keys.publicKey, owner: owner.address },
        await compileContract('wallet'),
      ),
    );
    await wallet.sendDeploy(owner.getSender(), toNano('10'));
    const msg = (n: number) =>
      Array.from({ length: n }, () => ({
        mode: 1,
        message: internal({ to: owner.address, value: toNano('0.1'), bounce: false }),
      }));
    out.wallet_batch_1 = costOf(
      (
        await wallet.sendBatch({
          secretKey: keys.secretKey,
          seqno: 0,
          validUntil: chain.now + 60,
          messages: msg(1),
        })
      ).transactions,
      addr(wallet),
    );
    out.wallet_batch_4 = costOf(
      (
        await wallet.sendBatch({
          secretKey: keys.secretKey,
          seqno: 1,
          validUntil: chain.now + 60,
          messages: msg(4),
        })
      ).transactions,
      addr(wallet),
    );
    const proxyKey = keyPairFromSeed(randomBytes(32));
    const proxyContract = await chain.treasury('proxy-contract');
    const worker = chain.openContract(
      WorkerContract.createFromConfig(
        {
          owner: owner.address,
          proxy: proxyContract.address,
          proxyPublicKey: proxyKey.publicKey,
          params: defaultParams(),
        },
        await compileContract('worker'),
      ),
    );
    await worker.sendDeploy(owner.getSender());
    const signed = (tokens: bigint, q: bigint) =>
      signedMessage(
        { op: SIGNED_OP.workerPayout, queryId: q, tokens, expectedAddress: worker.address },
        proxyKey.secretKey,
        owner.address,
      );
    out.worker_payout_signed = costOf(
      (await worker.sendSigned(owner.getSender(), signed(1000n, 1n))).transactions,
      addr(worker),
    );
    out.worker_payout_signed_next = costOf(
      (await worker.sendSigned(owner.getSender(), signed(2000n, 2n))).transactions,
      addr(worker),
    );
    const clientOwner = await chain.treasury('client-owner');
    const client = chain.openContract(
      ClientContract.createFromConfig(
        {
          owner: clientOwner.address,
          proxy: proxyContract.address,
          proxyPublicKey: proxyKey.publicKey,
          params: defaultParams(),
        },
        await compileContract('client'),
      ),
    );
    await client.sendDeploy(clientOwner.getSender());
    out.client_top_up = costOf(
      (await client.sendTopUp(clientOwner.getSender(), toNano('5'), clientOwner.address)).transactions,
      addr(client),
    );
    const charge = (tokens: bigint, q: bigint) =>
      signedMessage(
        { op: SIGNED_OP.clientCharge, queryId: q, tokens, expectedAddress: client.address },
        proxyKey.secretKey,
        owner.address,
      );
    out.client_charge_signed = costOf(
      (await client.sendSigned(owner.getSender(), charge(1000n, 1n))).transactions,
      addr(client),
    );
    out.note =
      'gas = compute gas of the contract transaction (the wallet batch includes one Ed25519 check, floor ~2,446 gas);' +
      ' fees in nanoTON at the emulator default (mainnet) config; worker and client figures cover the transaction of their own contract (the proxy contract runs next in the cascade)';
    return out;
  },
};
