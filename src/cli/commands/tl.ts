import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TlError } from '../../errors.ts';
import { cocoonCodec, encodeTl, tlObjectFromJson } from '../../tl/cocoon.ts';
import { tlFromJson, tlToJson } from '../../tl/json.ts';
import type { Command } from '../main.ts';

const usage = [
  'Usage:',
  "  cocoon tl encode '<json>' [--type T]   print the TL encoding as hex",
  '  cocoon tl decode <hex> [--type T]      print the decoded object as JSON',
  '  cocoon tl schema [--json]              list every constructor and function with its id',
  '',
  'JSON form: every object names its constructor in "_" (optional where a field is bare); 64-bit integers',
  'are decimal strings; int128/int256 and bytes are base64; Bool is true/false; string is text.',
  'Use - instead of <json>/<hex> to read standard input. --type encodes or decodes a value of that type',
  '(e.g. tokensUsed, bare) instead of a boxed object.',
  '',
  'Example: cocoon tl encode \'{"_":"tcp.ping","id":"5"}\'',
].join('\n');

function arg(v: string | undefined): string {
  if (v === undefined) throw new TlError('TL_USAGE', 'missing argument');
  return v === '-' ? readFileSync(0, 'utf8') : v;
}

export const tl: Command = {
  summary: 'encode and decode Cocoon TL (the wire format), list the schema',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { type: { type: 'string' }, json: { type: 'boolean' } },
    });
    const [sub, input] = positionals;
    const codec = cocoonCodec();
    switch (sub) {
      case 'encode': {
        let json: unknown;
        try {
          json = JSON.parse(arg(input));
        } catch (err) {
          if (err instanceof TlError) throw err;
          throw new TlError('TL_BAD_JSON', `not JSON: ${(err as Error).message}`);
        }
        const bytes =
          values.type === undefined
            ? encodeTl(tlObjectFromJson(json))
            : codec.encodeType(values.type, tlFromJson(codec.schema, json, values.type));
        process.stdout.write(`${bytes.toString('hex')}\n`);
        return 0;
      }
      case 'decode': {
        const hex = arg(input).trim().replace(/^0x/, '').replace(/[\s:]/g, '');
        if (!/^([0-9a-fA-F]{2})*$/.test(hex))
          throw new TlError('TL_BAD_HEX', 'input is not an even-length hex string');
        const buf = Buffer.from(hex, 'hex');
        const v = values.type === undefined ? codec.decode(buf) : codec.decodeType(values.type, buf);
        process.stdout.write(`${JSON.stringify(tlToJson(v))}\n`);
        return 0;
      }
      case 'schema': {
        const rows = codec.schema.combinators.map((c) => ({
          kind: c.kind,
          name: c.name,
          id: c.id.toString(16).padStart(8, '0'),
          declaration: c.normalized,
        }));
        if (values.json) {
          process.stdout.write(`${JSON.stringify(rows)}\n`);
        } else {
          for (const r of rows)
            process.stdout.write(`${r.id}  ${r.kind === 'function' ? 'fn ' : '   '} ${r.declaration}\n`);
        }
        return 0;
      }
      default:
        process.stderr.write(`${usage}\n`);
        return 2;
    }
  },
};
