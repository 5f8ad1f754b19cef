import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestEngine, type TestEngineServer } from '../../../test/support/openai-server.ts';
import { HttpEngine } from '../../openai/engine.ts';
import { ResponseStreamParser } from '../../openai/stream.ts';
import { NEUTRAL_MULTIPLIERS } from '../../pricing/tokens.ts';
import { decodeTl, encodeTl } from '../../tl/cocoon.ts';
import type { TlFunctions } from '../../tl/cocoon-api.gen.ts';
import { type AnswerMessage, WorkerQueries } from './query.ts';

function runQuery(
  payload: unknown,
  opts: { coefficient?: bigint; url?: string; method?: string } = {},
): TlFunctions['proxy.runQueryEx'] {
  const http = encodeTl({
    _: 'http.request',
    method: opts.method ?? 'POST',
    url: opts.url ?? '/v1/chat/completions',
    http_version: 'HTTP/1.1',
    headers: [{ name: 'Content-Type', value: 'application/json' }],
    payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  });
  return {
    _: 'proxy.runQueryEx',
    query: http,
    signed_payment: { _: 'proxy.signedPaymentEmpty' },
    coefficient: opts.coefficient ?? 1000n,
    timeout: 30,
    request_id: randomBytes(32),
    flags: 0,
  } as TlFunctions['proxy.runQueryEx'];
}

describe('a worker runs proxy.runQueryEx on its engine', () => {
  let srv: TestEngineServer;
  let q: WorkerQueries;
  before(async () => {
    srv = await startTestEngine();
    q = new WorkerQueries({
      engine: new HttpEngine({ url: srv.url }),
      model: 'slow@abc:def',
      multipliers: NEUTRAL_MULTIPLIERS,
      maxActiveRequests: 2,
    });
  });
  after(() => srv.close());

  const collect = async (rq: TlFunctions['proxy.runQueryEx'], model?: WorkerQueries) => {
    const msgs: AnswerMessage[] = [];
    const t = await (model ?? q).run(rq, (m) => {
      // Every message must survive the wire format.
      msgs.push(decodeTl(encodeTl(m)) as AnswerMessage);
    });
    return { msgs, tokens: t };
  };

  test('streams: the response head, every chunk as it came, then final info with adjusted tokens', async () => {
    const { msgs, tokens } = await collect(
      runQuery(
        { model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true },
        { coefficient: 1500n },
      ),
    );
    const [head, ...parts] = msgs;
    assert.equal(head?._, 'proxy.queryAnswerEx');
    const http = decodeTl((head as { answer: Uint8Array }).answer) as {
      _: string;
      status_code: number;
      headers: { name: string; value: string }[];
    };
    assert.equal(http._, 'http.response');
    assert.equal(http.status_code, 200);
    assert.ok(http.headers.some((h) => h.name === 'X-Cocoon-Worker-Start'));
    assert.ok(parts.length > 5, 'one part per engine chunk, not one buffered body');
    const last = parts.at(-1) as AnswerMessage & { final_info?: { tokens_used: Record<string, bigint> } };
    assert.equal(last._, 'proxy.queryAnswerPartEx');
    assert.equal(last.flags & 1, 1);
    // 11 prompt (3 cached) and 7 completion tokens at coefficient 1.5: 12 + 4 + 10.
    assert.deepEqual(last.final_info?.tokens_used, {
      _: 'tokensUsed',
      prompt_tokens_used: 12n,
      cached_tokens_used: 4n,
      completion_tokens_used: 10n,
      reasoning_tokens_used: 0n,
      total_tokens_used: 26n,
    });
    assert.equal(tokens.total, 26n);
    const sse = Buffer.concat(parts.map((p) => Buffer.from((p as { answer: Uint8Array }).answer))).toString();
    const items = new ResponseStreamParser().push(Buffer.from(sse));
    assert.ok(items.some((i) => i.kind === 'done'));
    assert.deepEqual(srv.seen.at(-1)?.body.stream_options, { include_usage: true });
  });

  test('requests the app got wrong are answered HTTP 400 with zero tokens: bad body, wrong model, wrong path', async () => {
    const cases = [
      runQuery('{"model":"slow","model":"x","messages":[]}'),
      runQuery({ model: 'other', messages: [{ role: 'user', content: 'hi' }] }),
      runQuery({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }, { url: '/v1/embeddings' }),
    ];
    for (const c of cases) {
      const { msgs, tokens } = await collect(c);
      assert.equal(msgs.length, 1);
      const m = msgs[0] as { _: string; flags: number; answer: Uint8Array };
      assert.equal(m._, 'proxy.queryAnswerEx');
      assert.equal(m.flags & 1, 1, 'complete in one message');
      const head = decodeTl(m.answer) as { status_code: number; payload: Uint8Array };
      assert.equal(head.status_code, 400);
      const body = JSON.parse(Buffer.from(head.payload).toString()) as { error: { message: string } };
      assert.ok(body.error.message.length > 0);
      assert.equal(tokens.total, 0n);
    }
  });

  test('refusals end with proxy.queryAnswerErrorEx and zero tokens: bad method, garbage query, too busy', async () => {
    const cases = [
      runQuery({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }, { method: 'GET' }),
      { ...runQuery({}), query: new Uint8Array([1, 2, 3]) },
    ];
    for (const c of cases) {
      const { msgs, tokens } = await collect(c);
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0]?._, 'proxy.queryAnswerErrorEx');
      assert.equal(tokens.total, 0n);
    }
    const busy = new WorkerQueries({
      engine: new HttpEngine({ url: srv.url }),
      model: 'stall',
      multipliers: NEUTRAL_MULTIPLIERS,
      maxActiveRequests: 1,
    });
    const ctl = new AbortController();
    const first = busy.run(
      runQuery({ model: 'stall', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      () => {},
      ctl.signal,
    );
    await new Promise((r) => setTimeout(r, 100));
    const { msgs } = await collect(
      runQuery({ model: 'stall', messages: [{ role: 'user', content: 'hi' }] }),
      busy,
    );
    assert.equal((msgs[0] as { error?: string }).error, 'too many active queries');
    ctl.abort();
    await first;
    assert.equal(busy.running, 0);
  });

  test('an engine that dies mid-stream ends the request with an error message after the parts sent', async () => {
    const dying = new WorkerQueries({
      engine: new HttpEngine({ url: srv.url }),
      model: 'disconnect',
      multipliers: NEUTRAL_MULTIPLIERS,
      maxActiveRequests: 2,
    });
    const { msgs } = await collect(
      runQuery({ model: 'disconnect', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      dying,
    );
    assert.equal(msgs[0]?._, 'proxy.queryAnswerEx');
    assert.equal(msgs.at(-1)?._, 'proxy.queryAnswerErrorEx');
    assert.equal(msgs.filter((m) => m._ === 'proxy.queryAnswerErrorEx').length, 1);
  });
});
