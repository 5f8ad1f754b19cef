export {
  cocoonCodec,
  decodeTl,
  decodeTlAs,
  decodeTlResult,
  encodeTl,
  tlObjectFromJson,
} from './cocoon.ts';
export type * from './cocoon-api.gen.ts';
export { TL_IDS } from './cocoon-api.gen.ts';
export {
  TL_MAX_BYTES,
  TL_MAX_DEPTH,
  TlCodec,
  type TlObject,
  TlReader,
  TlWriter,
  tlBytesSize,
} from './codec.ts';
export { tlFromJson, tlToJson } from './json.ts';
export {
  cocoonSchema,
  cocoonSchemaText,
  isBoxedTypeName,
  normalizeDeclaration,
  parseSchema,
  type TlCombinator,
  type TlParam,
  type TlSchema,
  type TlTypeExpr,
  tlId,
} from './schema.ts';
