import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EventEncoder,
  SeriesV1Encoder,
  SeriesV2Encoder,
  ServiceCheckEncoder,
  SketchEncoder,
  type Compression,
  type IntakeEncoder,
  type IntakePayload,
} from '@kennel/forwarder';
import { decodeIntakeRequest, decompressBody, type DecodedPayload } from '../src/index.js';
import {
  compression,
  configFor,
  drive,
  events,
  expectedCheck,
  expectedEvents,
  expectedSeriesV1,
  expectedSeriesV2,
  expectedSketch,
  limits,
  numRuns,
  serviceChecks,
  seriesV1,
  seriesV2,
  sketches,
  type Limits,
} from './support.js';

/** Decodes a payload as the intake would, checking it against every limit first. */
function readBack(p: IntakePayload, l: Limits): DecodedPayload {
  assert.ok(p.body.length <= l.maxCompressed, `body ${p.body.length} > ${l.maxCompressed}`);
  assert.ok(p.uncompressedBytes <= l.maxUncompressed, `uncompressed ${p.uncompressedBytes} > ${l.maxUncompressed}`);
  const raw = decompressBody(p.body, p.contentEncoding);
  assert.ok(raw.ok);
  assert.equal(raw.value.length, p.uncompressedBytes);
  const r = decodeIntakeRequest({ path: p.endpoint, contentEncoding: p.contentEncoding, body: p.body });
  if (!r.ok) assert.fail(`${r.reason}: ${r.message}`);
  return r.value;
}

function roundTrip<T>(
  name: string,
  items: fc.Arbitrary<T>,
  make: (l: Limits, c: Compression) => IntakeEncoder<T>,
  check: (decoded: DecodedPayload, items: T[], p: IntakePayload, l: Limits) => void,
): void {
  test(name, () => {
    fc.assert(
      fc.property(fc.array(items, { maxLength: 25 }), limits, compression, (list, l, c) => {
        const encoder = make(l, c);
        const { payloads, dropped } = drive(encoder, list);
        assert.equal(payloads.reduce((n, p) => n + p.items.length, 0) + dropped.length, list.length);
        for (const { payload, items: accepted } of payloads) {
          assert.equal(payload.items, accepted.length);
          assert.equal(payload.contentEncoding, c.contentEncoding);
          check(readBack(payload, l), accepted, payload, l);
        }
      }),
      { numRuns },
    );
  });
}

roundTrip(
  'v2 series read back as written, every payload within the byte and point limits',
  seriesV2,
  (l, c) => new SeriesV2Encoder(configFor(l), c),
  (d, items, p, l) => {
    assert.equal(d.kind, 'series_v2');
    const points = items.reduce((n, s) => n + s.points.length, 0);
    assert.equal(p.points, points);
    assert.ok(points <= l.maxPoints);
    if (d.kind === 'series_v2') assert.deepStrictEqual(d.series, items.map(expectedSeriesV2));
  },
);

roundTrip(
  'sketches read back as written, every payload within the byte limits',
  sketches,
  (l, c) => new SketchEncoder(configFor(l), c),
  (d, items, p) => {
    assert.equal(d.kind, 'sketches');
    assert.equal(p.points, items.reduce((n, s) => n + s.points.length, 0));
    if (d.kind === 'sketches') assert.deepStrictEqual(d.sketches, items.map(expectedSketch));
  },
);

roundTrip(
  'v1 series read back as written, every payload within the byte limits',
  seriesV1,
  (l, c) => new SeriesV1Encoder(configFor(l), c),
  (d, items) => {
    assert.equal(d.kind, 'series_v1');
    if (d.kind === 'series_v1') assert.deepStrictEqual(d.series, items.map(expectedSeriesV1));
  },
);

roundTrip(
  'check runs read back as written, every payload within the byte limits',
  serviceChecks,
  (l, c) => new ServiceCheckEncoder(configFor(l), c),
  (d, items) => {
    assert.equal(d.kind, 'check_runs');
    if (d.kind === 'check_runs') assert.deepStrictEqual(d.checks, items.map(expectedCheck));
  },
);

roundTrip(
  'events read back as written, grouped by source type, every payload within the byte limits',
  events,
  (l, c) => new EventEncoder(configFor(l, 'agent-host'), c),
  (d, items) => {
    assert.equal(d.kind, 'events');
    if (d.kind === 'events') {
      assert.equal(d.internalHostname, 'agent-host');
      assert.deepStrictEqual(d.events, expectedEvents(items));
    }
  },
);

test('v1 series with a value JSON cannot hold are the only v1 series dropped with generous limits', () => {
  fc.assert(
    fc.property(fc.array(seriesV1, { maxLength: 20 }), compression, (list, c) => {
      const encoder = new SeriesV1Encoder(configFor({ maxCompressed: 1 << 20, maxUncompressed: 1 << 22, maxPoints: 1000 }), c);
      const { dropped } = drive(encoder, list);
      const invalid = list.filter((s) => s.points.some((p) => !Number.isFinite(p.value)));
      assert.deepStrictEqual(dropped, invalid);
      assert.equal(encoder.counters.get('InvalidItem'), invalid.length);
    }),
    { numRuns },
  );
});
