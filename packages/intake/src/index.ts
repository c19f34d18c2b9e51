export { DecodeErrorReason, decoded, decodeError } from './decode/result.js';
export type { DecodeResult } from './decode/result.js';
export { decompressBody, DEFAULT_MAX_DECOMPRESSED_BYTES } from './decode/decompress.js';
export type { DecompressOptions } from './decode/decompress.js';
export { decodeSeriesV2, decodeSketches } from './decode/protobuf.js';
export { decodeSeriesV1, decodeCheckRuns, decodeEvents } from './decode/json.js';
export type { DecodedEvents } from './decode/json.js';
export { decodeIntakeRequest, decodeBody, intakeKindOf, INTAKE_ENDPOINTS } from './decode/payload.js';
export type { DecodedPayload, IntakeRequest, IntakePath, IntakePayloadKind } from './decode/payload.js';
