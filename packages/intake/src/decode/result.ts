/** Why a request body could not be decoded. Decoders never throw: they return one of these. */
export const DecodeErrorReason = {
  /** The `Content-Encoding` is not one kennel or the agent uses (`zstd`, `deflate`, `gzip`, `identity`). */
  UNSUPPORTED_ENCODING: 'unsupported_encoding',
  /** The body is not valid data for its `Content-Encoding`. */
  DECOMPRESS_FAILED: 'decompress_failed',
  /** The body decompresses to more than the configured maximum. */
  TOO_LARGE: 'too_large',
  /** A protobuf value runs past the end of its message. */
  TRUNCATED: 'truncated',
  /** A protobuf field has a wire type its schema does not allow, or a wire type that does not exist. */
  INVALID_WIRE_TYPE: 'invalid_wire_type',
  /** A varint is longer than 10 bytes. */
  INVALID_VARINT: 'invalid_varint',
  /** A value is out of its field's range (an unknown metric type, a status outside 0..3, ...). */
  INVALID_VALUE: 'invalid_value',
  /** The body is not JSON. */
  INVALID_JSON: 'invalid_json',
  /** The JSON does not have the payload's shape (a missing field, a wrong type). */
  INVALID_SHAPE: 'invalid_shape',
  /** The request path is not an intake endpoint kennel knows. */
  UNKNOWN_ENDPOINT: 'unknown_endpoint',
} as const;
export type DecodeErrorReason = (typeof DecodeErrorReason)[keyof typeof DecodeErrorReason];

/** A decoded value, or why there is none. */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: DecodeErrorReason; readonly message: string };

export function decoded<T>(value: T): DecodeResult<T> {
  return { ok: true, value };
}

export function decodeError<T = never>(reason: DecodeErrorReason, message: string): DecodeResult<T> {
  return { ok: false, reason, message };
}

/** A writable view of a readonly interface, for building decoded items field by field. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
