import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalIntake } from '@kennel/intake';
import {
  createLogsAgentCounters,
  createSubmitLogsSink,
  formatLogsAgentStatus,
  gzipCompression,
  HttpLogsSink,
  LogsSender,
  logsStatusMetrics,
  resolveLogsEndpoint,
  type LogsAgentStatus,
} from '../src/index.js';
import type { LogsSourceCounterSink } from '../src/process/processor.js';
import type { LogMessage } from '../src/types.js';
import { API_KEY, line, newSender, NOW, startIntake } from './sender-support.js';

test('the Logs Agent section shows the endpoint line and the agent metrics', async (t) => {
  const intake = await startIntake(t);
  const { sender } = newSender(t, intake.url);
  intake.failNext(503);
  // The processing stage's counters, in the same set.
  sender.counters.counters.add('LogsProcessed', 2);
  sender.counters.counters.add('LogsTruncated', 1);
  await sender.sendBatch([line('s', 0), line('s', 1)]);
  await sender.flush();
  const [failed, ok] = intake.requests();
  const port = new URL(intake.url).port;
  const bytes = sender.counters.counters.get('BytesSent');
  assert.equal(bytes % 2, 0, 'the payload was sent twice');
  assert.deepEqual(sender.statusLines(), [
    `    Reliable: Sending compressed logs in HTTP to 127.0.0.1 on port ${port}`,
    `    BytesSent: ${bytes}`,
    `    EncodedBytesSent: ${failed!.bodyBytes + ok!.bodyBytes}`,
    '    LogsProcessed: 2',
    '    LogsSent: 2',
    '    LogsTruncated: 1',
    '    RetryCount: 1',
    '    RetryTimeSpent: 976.562µs',
  ]);
  const stats = sender.logsStats();
  assert.deepEqual(stats, {
    is_running: true,
    endpoints: [`Reliable: Sending compressed logs in HTTP to 127.0.0.1 on port ${port}`],
    metrics: {
      BytesSent: String(bytes),
      EncodedBytesSent: String(failed!.bodyBytes + ok!.bodyBytes),
      LogsProcessed: '2',
      LogsSent: '2',
      LogsTruncated: '1',
      RetryCount: '1',
      RetryTimeSpent: '976.562µs',
    },
    integrations: [],
    errors: [],
    warnings: [],
    use_http: true,
  });
  assert.deepEqual(sender.expvars(), {
    BytesMissed: 0,
    BytesSent: bytes,
    DestinationErrors: 1,
    DestinationLogsDropped: {},
    EncodedBytesSent: failed!.bodyBytes + ok!.bodyBytes,
    Errors: '',
    IsRunning: true,
    LogsDecoded: 0,
    LogsProcessed: 2,
    LogsSent: 2,
    LogsTruncated: 1,
    RetryCount: 1,
    RetryTimeSpent: 976562,
    SenderLatency: sender.counters.counters.get('SenderLatency'),
    Warnings: '',
  });
  await sender.close();
});

test('a sender for the default site shows the agent endpoint line', async () => {
  const sender = new LogsSender({ sink: new HttpLogsSink(resolveLogsEndpoint({ apiKey: API_KEY })), hostname: 'h', compression: gzipCompression(6) });
  assert.deepEqual(sender.statusLines(), [
    '    Reliable: Sending compressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443',
    '    BytesSent: 0',
    '    EncodedBytesSent: 0',
    '    LogsProcessed: 0',
    '    LogsSent: 0',
    '    LogsTruncated: 0',
    '    RetryCount: 0',
    '    RetryTimeSpent: 0s',
  ]);
  await sender.close();
});

test('per-source status, errors and warnings render as the agent template lays them out', () => {
  const status: LogsAgentStatus = {
    is_running: true,
    endpoints: ['Reliable: Sending compressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443'],
    metrics: { LogsSent: '3', BytesSent: '10' },
    integrations: [
      {
        name: 'app',
        sources: [
          {
            type: 'file',
            configuration: { Service: 'api', Path: '/var/log/app.log', Source: 'nginx' },
            status: 'OK',
            inputs: ['/var/log/app.log'],
            messages: ['1 files tailed out of 1 files matching'],
            info: { BytesRead: ['1234'], 'Average Latency (ms)': ['1', '2'] },
          },
        ],
      },
    ],
    errors: ['bad'],
    warnings: ['too many files'],
    use_http: true,
  };
  assert.deepEqual(formatLogsAgentStatus(status), [
    '    Reliable: Sending compressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443',
    '    BytesSent: 10',
    '    LogsSent: 3',
    '',
    '  Errors',
    '  ======',
    '    bad',
    '',
    '  Warnings',
    '  ========',
    '    too many files',
    '  ============',
    '  Integrations',
    '  ============',
    '',
    '  app',
    '  ---',
    '    - Type: file',
    '      Path: /var/log/app.log',
    '      Service: api',
    '      Source: nginx',
    '      Status: OK',
    '        1 files tailed out of 1 files matching',
    '      Inputs:',
    '        /var/log/app.log',
    '      Average Latency (ms):',
    '        1',
    '        2',
    '      BytesRead: 1234',
  ]);
  assert.deepEqual(formatLogsAgentStatus({ ...status, is_running: false, endpoints: [], metrics: {}, integrations: [], errors: [], warnings: [] }), [
    '  Logs Agent is not running',
  ]);
});

test('in local mode the payloads go to the in-process intake, decoded, without HTTP', async () => {
  const local = new LocalIntake();
  const counters = createLogsAgentCounters();
  const accepted: string[] = [];
  const sender = new LogsSender<LogMessage>({
    sink: createSubmitLogsSink((p) => local.submit(p)),
    hostname: 'laptop',
    counters,
    config: { batchWait: 10, compressionKind: 'gzip' },
    compression: gzipCompression(6),
    now: () => NOW,
    onAccepted: (messages, outcome) => accepted.push(`${messages.length} ${outcome}`),
  });
  await sender.sendBatch([line('child:stdout', 0), line('child:stderr', 1)]);
  await sender.flush();
  assert.deepEqual(local.store.logs().map((e) => [e.message, e.hostname, e.timestamp]), [
    ['child:stdout line 0', 'laptop', NOW],
    ['child:stderr line 1', 'laptop', NOW],
  ]);
  assert.deepEqual(accepted, ['2 sent']);
  assert.equal(counters.counters.get('LogsSent'), 2);
  assert.equal(sender.endpointLine(), 'Local: Keeping compressed logs in the in-process intake (nothing leaves the machine)');
  await sender.close();
});

test('the sender counter set is the one the processing stage bumps', () => {
  const counters = createLogsAgentCounters();
  // The processor takes any sink with its four counters: the sender's set is one.
  const processing: LogsSourceCounterSink = counters.counters;
  processing.add('LogsDecoded', 3);
  processing.add('LogsProcessed', 2);
  processing.add('LogsTruncated');
  processing.add('BytesMissed', 10);
  assert.deepEqual(
    { ...logsStatusMetrics(counters) },
    { BytesSent: '0', EncodedBytesSent: '0', LogsProcessed: '2', LogsSent: '0', LogsTruncated: '1', RetryCount: '0', RetryTimeSpent: '0s' },
  );
});
