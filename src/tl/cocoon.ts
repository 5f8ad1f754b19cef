import type { TlAny, TlFunctionResults, TlFunctions, TlTypes } from './cocoon-api.gen.ts';
import { TlCodec, type TlObject } from './codec.ts';
import { tlFromJson } from './json.ts';
import { cocoonSchema } from './schema.ts';

/** Where the generated types live, and the schema they come from (for `npm run tl:gen` and its staleness test). */
export const COCOON_TYPES_FILE = new URL('./cocoon-api.gen.ts', import.meta.url);
export const COCOON_SCHEMA_SOURCE = 'src/tl/schema/cocoon_api.tl and cocoon_ext.tl';

let codec: TlCodec | undefined;

/** The codec for Cocoon's schema, built once. */
export function cocoonCodec(): TlCodec {
  codec ??= new TlCodec(cocoonSchema());
  return codec;
}

/**
 * Encodes a boxed Cocoon TL object. `prefix` reserves zeroed bytes in front (a frame header), so the payload is
 * copied once.
 *
 * @example
 * encodeTl({ _: 'tcp.ping', id: 5n }).toString('hex') // '7c62e9bb0500000000000000'
 */
export function encodeTl(obj: TlAny, opts?: { prefix?: number }): Buffer {
  return cocoonCodec().encode(obj as TlObject, opts);
}

/**
 * Decodes one boxed Cocoon TL object (any constructor or function); the whole input must be used.
 *
 * @example
 * decodeTl(Buffer.from('7c62e9bb0500000000000000', 'hex')) // { _: 'tcp.ping', id: 5n }
 */
export function decodeTl(buf: Uint8Array): TlAny {
  return cocoonCodec().decode(buf) as unknown as TlAny;
}

/**
 * Decodes a value of one boxed type, failing with `TL_UNEXPECTED_CONSTRUCTOR` for a constructor of another type.
 *
 * @example
 * const p = decodeTlAs('tcp.Packet', frame); // TlTypes['tcp.Packet']
 */
export function decodeTlAs<K extends keyof TlTypes>(type: K, buf: Uint8Array): TlTypes[K] {
  return cocoonCodec().decodeType(type, buf) as TlTypes[K];
}

/**
 * Decodes the answer to a function call as the type that function returns.
 *
 * @example
 * const r = decodeTlResult('client.connectToProxy', answer); // client.ConnectedToProxy
 */
export function decodeTlResult<K extends keyof TlFunctions>(fn: K, buf: Uint8Array): TlFunctionResults[K] {
  const result = cocoonCodec().schema.byName.get(fn)!.result.name;
  return cocoonCodec().decodeType(result, buf) as TlFunctionResults[K];
}

/**
 * Parses the JSON form (see {@link tlToJson}) of a Cocoon TL object.
 *
 * @example
 * tlObjectFromJson({ _: 'tcp.ping', id: '5' }) // { _: 'tcp.ping', id: 5n }
 */
export function tlObjectFromJson(json: unknown): TlAny {
  return tlFromJson(cocoonSchema(), json) as TlAny;
}
