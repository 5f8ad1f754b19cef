import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, beforeEach, describe, test } from 'node:test';
import { type Cell, internal, toNano } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { Blockchain, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import { findTransactionRequired, flattenTransaction } from '@ton/test-utils';
import { compileContract } from './compile.ts';
import { CocoonWallet, WALLET_ERROR } from './wallet.ts';

describe('cocoon wallet contract', () => {
  let code: Cell;
  let chain: Blockchain;
  let owner: SandboxContract<TreasuryContract>;
  let other: SandboxContract<TreasuryContract>;
  let wallet: SandboxContract<CocoonWallet>;
  const keys = keyPairFromSeed(randomBytes(32));
  const NOW = 1_800_000_000;

  before(async () => {
    code = await compileContract('wallet');
  });
  beforeEach(async () => {
    chain = await Blockchain.create();
    chain.now = NOW;
    owner = await chain.treasury('owner');
    other = await chain.treasury('other');
    wallet = chain.openContract(
      CocoonWallet.createFromConfig({ publicKey: keys.publicKey, owner: owner.address }, code),
    );
    await wallet.sendDeploy(owner.getSender(), toNano('5'));
  });

  const pay = (value: bigint) => ({
    mode: 1,
    message: internal({ to: other.address, value, bounce: false }),
  });
  /** Sandbox throws when an external is not accepted; its message names the exit code. */
  const rejected = async (p: Promise<unknown>, code: number) => {
    await assert.rejects(p, (err: Error) => {
      assert.equal(/Exit code: (-?\d+)/.exec(err.message)?.[1], String(code), err.message.slice(0, 200));
      return true;
    });
  };

  test('a signed batch sends up to four messages and spends its seqno; a replay is refused', async () => {
    const r = await wallet.sendBatch({
      secretKey: keys.secretKey,
      seqno: 0,
      validUntil: NOW + 60,
      messages: [pay(toNano('1')), pay(toNano('0.5'))],
    });
    findTransactionRequired(r.transactions, { to: wallet.address, success: true });
    assert.equal(await wallet.getSeqno(), 1);
    const paid = r.transactions.map(flattenTransaction).filter((t) => t.to?.equals(other.address));
    assert.deepEqual(
      paid.map((t) => t.value),
      [toNano('1'), toNano('0.5')],
    );
    await rejected(
      wallet.sendBatch({ secretKey: keys.secretKey, seqno: 0, validUntil: NOW + 60, messages: [pay(1n)] }),
      WALLET_ERROR.badSeqno,
    );
  });

  test('expired, wrong key, wrong subwallet, blocked and under-2-TON batches are refused', async () => {
    await rejected(
      wallet.sendBatch({ secretKey: keys.secretKey, seqno: 0, validUntil: NOW - 1, messages: [] }),
      WALLET_ERROR.expired,
    );
    const stranger = keyPairFromSeed(randomBytes(32));
    await rejected(
      wallet.sendBatch({ secretKey: stranger.secretKey, seqno: 0, validUntil: NOW + 60, messages: [] }),
      WALLET_ERROR.badSignature,
    );
    await rejected(
      wallet.sendBatch({
        secretKey: keys.secretKey,
        seqno: 0,
        subwalletId: 7,
        validUntil: NOW + 60,
        messages: [],
      }),
      WALLET_ERROR.badSubwallet,
    );
    await wallet.sendOwnerCommand(owner.getSender(), 'b');
    assert.equal(await wallet.getStatus(), 1);
    await rejected(
      wallet.sendBatch({ secretKey: keys.secretKey, seqno: 0, validUntil: NOW + 60, messages: [] }),
      WALLET_ERROR.blocked,
    );
    await wallet.sendOwnerCommand(owner.getSender(), 'u');
    assert.equal(await wallet.getStatus(), 0);
    await wallet.sendOwnerCommand(owner.getSender(), 'w');
    assert.ok((await chain.getContract(wallet.address)).balance <= toNano('0.01'));
    await rejected(
      wallet.sendBatch({ secretKey: keys.secretKey, seqno: 0, validUntil: NOW + 60, messages: [] }),
      WALLET_ERROR.lowBalance,
    );
  });

  test('only the owner commands it; anyone may pay into it', async () => {
    const r = await wallet.sendOwnerCommand(other.getSender(), 'b');
    findTransactionRequired(r.transactions, { to: wallet.address, success: true });
    assert.equal(await wallet.getStatus(), 0, "a stranger's text is only a transfer");
    const m = await wallet.sendOwnerMessage(
      other.getSender(),
      internal({ to: other.address, value: toNano('1') }),
      1,
    );
    const tx = flattenTransaction(findTransactionRequired(m.transactions, { to: wallet.address }));
    assert.equal(tx.exitCode, WALLET_ERROR.notOwner);
    const sent = await wallet.sendOwnerMessage(
      owner.getSender(),
      internal({ to: other.address, value: toNano('1'), bounce: false }),
      1,
    );
    const got = findTransactionRequired(sent.transactions, { from: wallet.address, to: other.address });
    assert.equal(flattenTransaction(got).value, toNano('1'));
    assert.ok((await wallet.getOwner()).equals(owner.address));
    assert.equal(await wallet.getPublicKey(), BigInt(`0x${keys.publicKey.toString('hex')}`));
  });
});
