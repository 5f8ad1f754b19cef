import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { toJson } from '../../node/http-util.ts';
import { decodeReceipt, receiptJson, verifyReceipt } from '../../receipt/receipt.ts';
import type { Command } from '../main.ts';

const usage = [
  'Usage: cocoon receipt verify FILE [--json]',
  '',
  'Checks a signed receipt offline (a file from `cocoon client receipts --save DIR`, or the base64 of an',
  'X-Cocoon-Receipt header or a cocoon.receipt event): the worker signature over the model, image, request and',
  'answer hashes and tokens; the worker certificate in it (its key is the signer, its quote names the image);',
  "the proxy's countersignature over the charge; and that the charge is no more than what the worker counted,",
  'at the price it counted. Exit 0 when everything holds, 1 when something does not (the problems are printed;',
  'an overcharge is named as one). DCAP verification of the quote is `cocoon attest`.',
].join('\n');

/** Base64 text (an optional "X-Cocoon-Receipt:" prefix allowed) or the raw TL bytes. */
function receiptBytes(file: Buffer): Buffer {
  const text = file
    .toString('latin1')
    .trim()
    .replace(/^x-cocoon-receipt:\s*/i, '');
  if (/^[A-Za-z0-9+/=\s]+$/.test(text)) return Buffer.from(text.replace(/\s+/g, ''), 'base64');
  return file;
}

export const receipt: Command = {
  summary: 'check a signed receipt offline',
  usage,
  async run(argv) {
    const { values: v, positionals } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (positionals[0] !== 'verify' || !positionals[1]) {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    const r = decodeReceipt(receiptBytes(readFileSync(positionals[1])));
    const check = verifyReceipt(r);
    const j = receiptJson(r);
    if (v.json) {
      process.stdout.write(`${toJson({ ...check, receipt: j })}\n`);
    } else {
      const t = j.tokens;
      const c = j.charge;
      process.stdout.write(
        [
          `model ${j.model}, ${j.sealed ? 'sealed to the worker enclave' : 'plain (the proxy saw it)'}, at ${j.time}`,
          `worker ${j.worker_key} (${check.quoteKind} quote), image ${j.image_hash}`,
          `request sha256 ${j.request_hash}, answer chain ${j.answer_hash} (${j.answer_chunks} chunks, status ${j.status})`,
          `tokens: ${t.prompt} prompt (${t.cached} cached), ${t.completion} completion (${t.reasoning} reasoning), ${t.total} total at coefficient ${j.coefficient}, ${j.price_per_token} nanoTON each`,
          `charged ${c.tokens} tokens = ${c.nanoton} nanoTON to ${c.client_contract}; ${c.client_total_tokens} tokens charged in all`,
          check.ok
            ? 'verified: both signatures, the certificate and the charge hold'
            : `NOT VERIFIED${check.overcharged ? ' (overcharged)' : ''}:\n${check.problems.map((p) => `  - ${p}`).join('\n')}`,
        ].join('\n') + '\n',
      );
    }
    return check.ok ? 0 : 1;
  },
};
