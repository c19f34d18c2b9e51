import { lstatSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Env } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/load.js';
import { formatStatus } from '../topology/status-format.js';

export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

/** GETs a path of the local status port; rejects with a clear message when nothing answers. */
export function getStatusJson(port: number, path: string, timeoutMs = 20_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(new Error(`the status port answered something that is not JSON (${(e as Error).message})`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) =>
      reject(new Error(`cannot reach kennel's status port on 127.0.0.1:${port} (${(e as Error).message}); is \`kennel run\` running with the same DD_CMD_PORT?`)),
    );
    req.end();
  });
}

/** `kennel status [--json]`: the running agent's counters, as the agent's status shows them. */
export async function statusCommand(io: CliIo, json: boolean, env: Env, configFile?: string): Promise<number> {
  const port = loadConfig(env, configFile).int('cmd_port');
  try {
    const s = (await getStatusJson(port, '/agent/status')) as Record<string, unknown>;
    io.out(json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s));
    return 0;
  } catch (e) {
    io.err(`kennel status: ${(e as Error).message}\n`);
    return 1;
  }
}

/** `kennel health`: PASS or FAIL with the components, as `datadog-agent health`; non-zero when unhealthy. */
export async function healthCommand(io: CliIo, env: Env, configFile?: string): Promise<number> {
  const port = loadConfig(env, configFile).int('cmd_port');
  let h: { Healthy?: string[]; Unhealthy?: string[] };
  try {
    h = (await getStatusJson(port, '/agent/status/health')) as typeof h;
  } catch (e) {
    io.err(`kennel health: ${(e as Error).message}\n`);
    return 1;
  }
  const healthy = [...(h.Healthy ?? [])].sort();
  const unhealthy = [...(h.Unhealthy ?? [])].sort();
  io.out(`Agent health: ${unhealthy.length === 0 ? 'PASS' : 'FAIL'}\n`);
  io.out(`=== ${healthy.length} healthy components ===\n${healthy.join(', ')}\n`);
  if (unhealthy.length > 0) io.out(`=== ${unhealthy.length} unhealthy components ===\n${unhealthy.join(', ')}\n`);
  return unhealthy.length === 0 ? 0 : 1;
}

/** Reads the session token `kennel run` wrote (`auth_token_file_path`, else `<run_path>/auth_token`). */
export function readAuthToken(config: Config): string {
  const path = config.string('auth_token_file_path') || join(config.string('run_path'), 'auth_token');
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) throw new Error(`no auth token at ${path}; is \`kennel run\` running with the same DD_RUN_PATH?`);
  if (!st.isFile()) throw new Error(`the auth token ${path} is not a regular file`);
  const token = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(token)) throw new Error(`the auth token ${path} is malformed`);
  return token;
}

/** POSTs a guarded path of the local status port with the session token. */
export function postGuarded(port: number, path: string, token: string, timeoutMs = 60_000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', timeout: timeoutMs, headers: { authorization: `Bearer ${token}`, 'content-length': 0 } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: kept as text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new Error(`cannot reach kennel's status port on 127.0.0.1:${port} (${(e as Error).message})`)));
    req.end();
  });
}

/** `kennel flush` / `kennel stop`: a guarded IPC call with the auth token; non-zero when refused. */
export async function guardedCommand(io: CliIo, what: 'flush' | 'stop', env: Env, configFile?: string): Promise<number> {
  const config = loadConfig(env, configFile);
  try {
    const token = readAuthToken(config);
    const r = await postGuarded(config.int('cmd_port'), `/agent/${what}`, token);
    io.out(JSON.stringify(r.body) + '\n');
    if (r.status !== 200) {
      io.err(`kennel ${what}: the agent answered ${r.status}\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    io.err(`kennel ${what}: ${(e as Error).message}\n`);
    return 1;
  }
}
