import { ContentType } from '../encoders/types.js';
import type { IntakePayload } from '../encoders/types.js';
import { AGENT_PAYLOAD_VERSION, AGENT_VERSION } from './endpoints.js';

/** Header names, as the agent spells them (`default_forwarder.go`, `serializer.go`). */
export const Header = {
  API_KEY: 'DD-Api-Key',
  AGENT_VERSION: 'DD-Agent-Version',
  USER_AGENT: 'User-Agent',
  CONTENT_TYPE: 'Content-Type',
  CONTENT_ENCODING: 'Content-Encoding',
  AGENT_PAYLOAD: 'DD-Agent-Payload',
} as const;

/**
 * The request headers for one payload: `DD-Api-Key`, `DD-Agent-Version`,
 * `User-Agent: datadog-agent/<version>`, the payload's `Content-Type` and `Content-Encoding`, and
 * `DD-Agent-Payload` on protobuf payloads. `Content-Length` is added by the transport.
 */
export function buildHeaders(payload: Pick<IntakePayload, 'contentType' | 'contentEncoding'>, apiKey: string): Record<string, string> {
  const headers: Record<string, string> = {
    [Header.API_KEY]: apiKey,
    [Header.AGENT_VERSION]: AGENT_VERSION,
    [Header.USER_AGENT]: `datadog-agent/${AGENT_VERSION}`,
    [Header.CONTENT_TYPE]: payload.contentType,
    [Header.CONTENT_ENCODING]: payload.contentEncoding,
  };
  if (payload.contentType === ContentType.PROTOBUF) headers[Header.AGENT_PAYLOAD] = AGENT_PAYLOAD_VERSION;
  return headers;
}
