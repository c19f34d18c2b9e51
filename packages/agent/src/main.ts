import { isKennelError } from '@kennel/core';
import { decodeCommand } from './commands/decode.js';
import { runCommand } from './commands/run.js';
import { guardedCommand, healthCommand, statusCommand } from './commands/status.js';

const USAGE = `usage: kennel [-c datadog.yaml] <command> [options]

commands:
  run                 start the agent (the default): DogStatsD on udp 127.0.0.1:8125 and
                      /var/run/datadog/dsd.socket, aggregated and forwarded (local mode
                      without DD_API_KEY)
  run -- CMD ARGS     run CMD as a child, collect its stdout (info) and stderr (error) as
                      logs, pass signals on, and exit with its exit code
  status [--json]     the running agent's counters, as \`datadog-agent status\` shows them
  health              PASS or FAIL per component; exits 1 when one is unhealthy
  flush               flush the closed buckets now (reads the auth token from DD_RUN_PATH)
  stop                stop the running agent as SIGTERM does (reads the auth token)
  decode [--raw] [--count] [--transport udp|uds]
                      read DogStatsD datagrams on stdin (JSON lines, each a JSON string;
                      --raw: plain DogStatsD text) and print one JSON object per message
  help                print this help

configuration: DD_* environment variables with the Datadog Agent's names and defaults
(DD_DOGSTATSD_PORT, DD_DOGSTATSD_NON_LOCAL_TRAFFIC, DD_DOGSTATSD_BUFFER_SIZE, ...;
DD_LOGS_ENABLED and DD_LOGS for log files and listeners, DD_LOGS_CONFIG_* for the logs sender).
`;

/** The CLI entry point; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const stderr = (s: string) => process.stderr.write(s);
  // -c FILE / --config FILE may stand anywhere before a `--`.
  const args: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a === '-c' || a === '--config') {
      const f = argv[i + 1];
      if (f === undefined) {
        stderr(`kennel: ${a} needs a file (datadog.yaml)\n`);
        return 2;
      }
      configFile = f;
      i++;
    } else if (a.startsWith('--config=')) {
      configFile = a.slice('--config='.length);
    } else {
      args.push(a);
    }
  }
  const [command = 'run', ...rest] = args;
  try {
    switch (command) {
      case 'run': {
        // `kennel run -- CMD ARGS`: everything after `--` is the application to run as a child.
        const dash = rest.indexOf('--');
        const bad = (dash < 0 ? rest : rest.slice(0, dash))[0];
        if (bad !== undefined) {
          stderr(`kennel run: unknown option ${JSON.stringify(bad)} (the application to run goes after --: kennel run -- CMD ARGS)\n`);
          return 2;
        }
        const command = dash < 0 ? undefined : rest.slice(dash + 1);
        if (command !== undefined && command.length === 0) {
          stderr('kennel run --: give the command to run after --: kennel run -- CMD ARGS\n');
          return 2;
        }
        return await runCommand(process.env, { log: (s) => process.stderr.write(s + '\n') }, configFile, command);
      }
      case 'decode': {
        let raw = false;
        let count = false;
        let transport: 'udp' | 'uds' = 'udp';
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--raw') raw = true;
          else if (a === '--count') count = true;
          else if (a === '--transport' && (rest[i + 1] === 'udp' || rest[i + 1] === 'uds')) transport = rest[++i] as 'udp' | 'uds';
          else {
            stderr(`kennel decode: unknown option ${JSON.stringify(a)}\n\n${USAGE}`);
            return 2;
          }
        }
        return await decodeCommand(
          { stdin: process.stdin, write: (s) => process.stdout.write(s), warn: stderr },
          { raw, count, transport },
          process.env,
          configFile,
        );
      }
      case 'status': {
        const json = rest.includes('--json') || rest.includes('-j');
        const bad = rest.find((a) => a !== '--json' && a !== '-j');
        if (bad !== undefined) {
          stderr(`kennel status: unknown option ${JSON.stringify(bad)}\n`);
          return 2;
        }
        return await statusCommand({ out: (s) => process.stdout.write(s), err: stderr }, json, process.env, configFile);
      }
      case 'health':
        return await healthCommand({ out: (s) => process.stdout.write(s), err: stderr }, process.env, configFile);
      case 'flush':
      case 'stop':
        return await guardedCommand({ out: (s) => process.stdout.write(s), err: stderr }, command, process.env, configFile);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        stderr(`kennel: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (isKennelError(err)) {
      stderr(`kennel: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
