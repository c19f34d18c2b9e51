// The encoder's plain-ASCII fast path writes what the general path writes, and the byte length it
// reports is the event's UTF-8 length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { goJsonString, LogEventEncoder } from '../src/index.js';
import type { SenderMessage } from '../src/index.js';

const numRuns = Number(process.env.KENNEL_PROP_RUNS ?? 500);
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The event as the general path writes it: the content decoded, then Go's JSON string rules. */
function reference(m: SenderMessage, hostname: string, ts: number): string {
  const content = typeof m.content === 'string' ? m.content : utf8.decode(m.content);
  return (
    `{"message":${goJsonString(content)},"status":${goJsonString(m.status === '' ? 'info' : m.status)},"timestamp":${Math.trunc(ts)}` +
    `,"hostname":${goJsonString(hostname)},"service":${goJsonString(m.service)},"ddsource":${goJsonString(m.source)},"ddtags":${goJsonString(m.tags.join(','))}}`
  );
}

// Bytes biased to the ones that matter: plain ASCII, the escaped ones, controls, UTF-8 sequences, invalid bytes.
const byte = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.constantFrom(0x22, 0x5c, 0x3c, 0x3e, 0x26, 0x00, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xf0, 0x9f, 0x98, 0x80, 0xff),
);
const content = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.array(byte, { maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.array(byte, { maxLength: 64 }).map((b) => new Uint8Array(b)),
  fc.string({ unit: 'binary', maxLength: 32 }),
  fc.string({ maxLength: 32 }),
);
const text = fc.oneof(fc.constantFrom('', 'api', 'nginx', 'é', '<svc>', 'a\u2028b'), fc.string({ maxLength: 8 }));
const message = fc.record({
  content,
  status: fc.constantFrom('', 'info', 'error', 'warn', 'é'),
  service: text,
  source: text,
  tags: fc.array(text, { maxLength: 3 }),
});

test('encode writes what the general path writes, and lastByteLength is the UTF-8 length when set', () => {
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.constantFrom('web-1', 'hôte', '<h>'), (ms, hostname) => {
      const e = new LogEventEncoder(hostname);
      for (const raw of ms) {
        const m: SenderMessage = { ...raw, timestamp: 0, origin: { sourceId: 's' } };
        const json = e.encode(m, 1_700_000_000_123.7);
        assert.equal(json, reference(m, hostname, 1_700_000_000_123.7));
        if (e.lastByteLength >= 0) assert.equal(e.lastByteLength, Buffer.byteLength(json, 'utf8'));
        JSON.parse(json);
      }
    }),
    { numRuns },
  );
});

test('a plain ASCII line of bytes takes the fast path (its length is known)', () => {
  const e = new LogEventEncoder('h');
  const json = e.encode({ content: Buffer.from('GET /health 200 ok'), status: 'info', service: 'api', source: 'app', tags: ['a:b'], timestamp: 0, origin: { sourceId: 's' } }, 5);
  assert.equal(e.lastByteLength, json.length);
  assert.equal(json, '{"message":"GET /health 200 ok","status":"info","timestamp":5,"hostname":"h","service":"api","ddsource":"app","ddtags":"a:b"}');
});
