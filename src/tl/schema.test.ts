import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { cocoonSchema, normalizeDeclaration, parseSchema, tlId } from './schema.ts';

// Every constructor id that cocoon-reference.md §3 (and §2.4 for Bool) lists, as printed there.
const REFERENCE_IDS = `
tcp.ping bbe9627c
tcp.pong 0bd4302c
tcp.packet 9c17baf8
tcp.query 3af51908
tcp.queryAnswer c048c311
tcp.queryError 4cd2f602
tcp.connect a57c4261
tcp.connected 636d41d6
ton.blockIdExt bc3f6da5
test.query 394e9143
test.answer 0d4fcdb6
worker.params 869c73ed
proxy.params d5c5609f
client.params 40fdca64
client.connectToProxy ff5fa0f4
client.connectedToProxy 95317ad1
client.authorizeWithProxyShort 6c276723
client.authorizeWithProxyLong d3474303
client.runQuery bc748f32
client.runQueryEx f54cb74b
client.updatePaymentStatus 9ed1c697
client.paymentStatus aa8a0ecc
client.getWorkerTypes 7f062bdb
client.workerTypes f64e0e01
client.workerType 8210e21c
client.getWorkerTypesV2 b2133d72
client.workerTypesV2 0cf0dc67
client.workerTypeV2 b27d8197
client.workerInstanceV2 3ea93d00
client.requestRefund 238d863d
client.refund 83aabead
client.refundRejected cf9d9957
client.proxyConnectionAuthShort d6ffc5af
client.proxyConnectionAuthLong 417bf016
client.authorizationWithProxySuccess 75d5ac34
client.authorizationWithProxyFailed 60551c96
client.queryAnswerEx cd524720
client.queryAnswerPartEx c07bfaec
client.queryAnswerErrorEx 072562a8
client.queryFinalInfo 69a452f0
client.queryAnswer 9b943922
client.queryAnswerError 6d60569a
client.queryAnswerPart b765de4c
client.queryAnswerPartError d790a022
proxy.clientRequestPayment c6bcf127
tokensUsed 70c5b15c
worker.connectToProxy cc484c5d
worker.connectedToProxy 66bc82ee
worker.compareBalanceWithProxy db386501
worker.compareBalanceWithProxyResult 9054c411
worker.extendedCompareBalanceWithProxy f8dd9914
worker.extendedCompareBalanceWithProxyResult 0c10973e
worker.proxyHandshakeComplete f843b066
worker.proxyHandshakeCompleted 3ad9b886
worker.updatePaymentStatus dc70a524
worker.paymentStatus a88bd701
proxy.runQueryEx c805e7e2
proxy.runQuery 47182416
proxy.workerRequestPayment 1436c0d5
proxy.queryAnswerEx 1ce574e8
proxy.queryAnswerPartEx 6d85b50f
proxy.queryAnswerErrorEx 8f7fb0a7
proxy.queryFinalInfo e794e6fc
proxy.queryAnswer 37e5f725
proxy.queryAnswerError 669d014e
proxy.queryAnswerPart 72eb00ee
proxy.queryAnswerPartError 940e1168
worker.enabledDisabled b3b71039
worker.newCoefficient 6af092b0
proxy.signedPayment 02998182
proxy.signedPaymentEmpty b347ce64
http.request 47492de5
http.response 1cd0c42b
http.header 8e9be511
keyManager.getWorkerPrivateKeys 2a26eff5
keyManager.getProxyPrivateKeys 47a9c2de
keyManager.privateKeys 0ed66ce5
keyManager.privateKey 60f4f8e7
proxyRunner.config 5bf5e272
workerRunner.config 870db56d
clientRunner.config af0bd51f
keyStorageRunner.config d7874e40
rootConfig.registeredProxy 9f4e446a
rootConfig.pseudo 87a976cc
rootConfig.configV5 5e84869b
proxyDb.clientInfo 6cfeaa21
proxyDb.clientInfoV2 3078c9bf
proxyDb.workerInfo 2517b38f
proxyDb.pendingBlockchainSeqnoCommit 525b14a9
proxyDb.configEmpty 43dc40b4
proxyDb.configV4 bde43703
proxyDb.configV4Disabled ad2cfb4a
proxyDb.oldClient 2fae7b42
proxyDb.oldWorker f04156a0
proxyDb.oldInstance a8c9e178
keyManagerDb.configEmpty d3fc2385
keyManagerDb.configV1 6d2817ac
keyManagerDb.key 4d0a1e17
boolTrue 997275b5
boolFalse bc799737
`
  .trim()
  .split('\n')
  .map((l) => l.split(' ') as [string, string]);

const shared = new URL('../../../shared/reference/cocoon/', import.meta.url);

describe('TL schema ids', () => {
  const schema = cocoonSchema();

  test('lists 100 ids from the reference', () => assert.equal(REFERENCE_IDS.length, 100));

  for (const [name, hex] of REFERENCE_IDS) {
    test(`${name} has id ${hex}`, () => {
      const c = schema.byName.get(name);
      assert.ok(c, `${name} is in the schema`);
      assert.equal(c.id.toString(16).padStart(8, '0'), hex);
    });
  }

  test('honours explicit #ids instead of the CRC32 of the line', () => {
    for (const [name, id, crc] of [
      ['client.params', 0x40fdca64, 0x1e80c9d3],
      ['proxy.params', 0xd5c5609f, 0x255d81fa],
      ['worker.params', 0x869c73ed, 0x1e0a3348],
    ] as const) {
      const c = schema.byName.get(name)!;
      assert.equal(c.explicitId, true);
      assert.equal(c.id, id);
      assert.equal(tlId(c.normalized), crc);
    }
  });

  test('normalises declarations as tl-parser hashes them', () => {
    assert.equal(
      normalizeDeclaration(
        'rootConfig.pseudo proxy_hashes:(vector int256)\n   model_types:(vector string) = rootConfig.Config',
      ),
      'rootConfig.pseudo proxy_hashes:vector int256 model_types:vector string = rootConfig.Config',
    );
    assert.equal(
      normalizeDeclaration('vector {t:Type} # [ t ] = Vector t'),
      'vector t:Type # [ t ] = Vector t',
    );
    assert.equal(tlId('vector t:Type # [ t ] = Vector t'), 0x1cb5c415);
    assert.equal(
      normalizeDeclaration('ton.blockIdExt ws:vector<int32> = X'),
      'ton.blockIdExt ws:vector int32 = X',
    );
  });

  test('separates constructors from functions', () => {
    assert.equal(schema.byName.get('client.runQueryEx')?.kind, 'function');
    assert.equal(schema.byName.get('client.queryAnswerEx')?.kind, 'constructor');
    assert.equal(schema.byName.get('http.request')?.kind, 'function');
    assert.equal(schema.combinators.length, 122); // 105 of the reference, 17 of cocoon_ext.tl
  });

  test('parses conditional fields and vector arguments', () => {
    const w = schema.byName.get('worker.params')!;
    assert.deepEqual(
      w.params.map((p) => [p.name, p.type.name, p.condition?.bit ?? null]),
      [
        ['flags', '#', null],
        ['worker_owner_address', 'string', null],
        ['model', 'string', null],
        ['coefficient', 'int', null],
        ['is_test', 'Bool', 0],
        ['proxy_cnt', 'int', 0],
        ['max_active_requests', 'int', 0],
        ['min_proto_version', 'int', 1],
        ['max_proto_version', 'int', 1],
      ],
    );
    const r = schema.byName.get('rootConfig.pseudo')!;
    assert.deepEqual(r.params[0]?.type, { name: 'vector', args: [{ name: 'int256', args: [] }] });
  });

  test('matches every row of the derived id table (all 105 declarations)', (t) => {
    const file = new URL('cocoon_api.ids.tsv', shared);
    if (!existsSync(file)) return t.skip('shared/reference is not beside this checkout');
    const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    assert.equal(rows.length, 105);
    for (const row of rows) {
      const [kind, name, id, , , tloId, normalized] = row.split('\t');
      const c = schema.byName.get(name!);
      assert.ok(c, name);
      assert.equal(c.kind, kind);
      assert.equal(c.id.toString(16).padStart(8, '0'), id);
      assert.equal(id, tloId);
      assert.equal(c.normalized, normalized);
    }
  });

  test('computes the ids of the TON schemas with the same rule', (t) => {
    const dir = new URL('ton/', shared);
    if (!existsSync(dir)) return t.skip('shared/reference is not beside this checkout');
    const load = (f: string) => parseSchema(readFileSync(new URL(f, dir), 'utf8'));
    const ton = load('ton_api.tl');
    const lite = load('lite_api.tl');
    const tonlib = load('tonlib_api.tl');
    assert.equal(ton.combinators.length, 633);
    assert.equal(lite.combinators.length, 94);
    assert.equal(tonlib.combinators.length, 227);
    const vectors: [typeof ton, string, number][] = [
      [ton, 'tcp.ping', 0x4d082b9a],
      [ton, 'tcp.pong', 0xdc69fb03],
      [ton, 'tcp.authentificate', 0x445bab12],
      [ton, 'pub.ed25519', 0x4813b4c6],
      [ton, 'adnl.message.query', 0xb48bf97a],
      [ton, 'adnl.message.answer', 0x0fac8416],
      [lite, 'liteServer.query', 0x798c06df],
      [lite, 'liteServer.getMasterchainInfo', 0x89b5e62e],
      [lite, 'tonNode.blockIdExt', 0x6752eb78],
      [tonlib, 'ton.blockIdExt', 0x7910fc9a],
      [tonlib, 'raw.getAccountState', 0xb0daa932],
      [tonlib, 'raw.sendMessage', 0x955780e0],
    ];
    for (const [s, name, id] of vectors) assert.equal(s.byName.get(name)?.id, id, name);
  });
});
