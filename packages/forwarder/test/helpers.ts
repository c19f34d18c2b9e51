import { inflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { decompress as zstdDecompress } from 'fzstd';
import protobuf from 'protobufjs';
import {
  createZlibCompression,
  identityCompression,
  loadCompression,
  resolveSerializerConfig,
  type Compression,
  type IntakePayload,
  type SerializerOptions,
} from '../src/index.js';

/** The real zstd binding; the tests fail loudly if it did not load. */
export const zstd: Compression = await loadCompression(resolveSerializerConfig(), {
  warn: (line) => {
    throw new Error(`zstd did not load: ${line}`);
  },
});
export const zlib: Compression = createZlibCompression();
export const identity: Compression = identityCompression;
export const compressions: readonly Compression[] = [zstd, zlib, identity];

export function config(options: SerializerOptions = {}): ReturnType<typeof resolveSerializerConfig> {
  return resolveSerializerConfig(options);
}

/** The body as the intake reads it, decompressed with libraries independent of the encoder. */
export function decompress(p: Pick<IntakePayload, 'body' | 'contentEncoding'>): Uint8Array {
  switch (p.contentEncoding) {
    case 'zstd':
      return zstdDecompress(p.body);
    case 'deflate':
      return new Uint8Array(inflateSync(p.body));
    case 'identity':
      return p.body;
  }
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function text(p: IntakePayload): string {
  return Buffer.from(decompress(p)).toString('utf8');
}

/** agent-payload's metric messages, parsed by protobufjs (an independent protobuf implementation). */
export const agentPayload = protobuf.parse(
  readFileSync(new URL('../../test/fixtures/agent_payload.proto', import.meta.url), 'utf8'),
).root;
export const MetricPayload = agentPayload.lookupType('datadog.agentpayload.MetricPayload');
export const SketchPayload = agentPayload.lookupType('datadog.agentpayload.SketchPayload');
export const toObjectOptions = { longs: Number, enums: Number, defaults: true, arrays: true } as const;
