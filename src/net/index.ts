export {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionRole,
  type ConnectionStats,
  type QueryContext,
  type QueryHandler,
  type QueryOptions,
  RemoteQueryError,
} from './connection.ts';
export {
  checkFrameLength,
  encodeFrame,
  FRAME_HEADER,
  FRAME_MAX,
  FRAME_MIN,
  type Frame,
  FrameDecoder,
  writeFrameHeader,
} from './frame.ts';
export * from './pow.ts';
