import type { LogEntry } from './api.js';

/** The page's one Server-Sent Events connection (`/api/stream`), fanned out to the views. */

export interface LiveHandlers {
  changed(kinds: string[]): void;
  logs(entries: LogEntry[]): void;
  status(doc: Record<string, unknown>): void;
  connection(open: boolean): void;
}

export function connect(h: LiveHandlers): EventSource {
  const es = new EventSource('/api/stream');
  es.addEventListener('open', () => h.connection(true));
  es.addEventListener('error', () => h.connection(es.readyState === EventSource.OPEN));
  es.addEventListener('changed', (e) => h.changed((JSON.parse((e as MessageEvent<string>).data) as { kinds: string[] }).kinds));
  es.addEventListener('logs', (e) => h.logs((JSON.parse((e as MessageEvent<string>).data) as { logs: LogEntry[] }).logs));
  es.addEventListener('status', (e) => h.status(JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>));
  return es;
}
