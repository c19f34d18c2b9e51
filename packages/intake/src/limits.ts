/** 64 MiB: the default cap on a request body as received (compressed), for the fake and the local intake. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
