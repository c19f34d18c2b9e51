export { main } from './main.js';
export { startAgent, runCommand } from './commands/run.js';
export type { RunningAgent, RunIo } from './commands/run.js';
export { decodeCommand } from './commands/decode.js';
export type { DecodeIo, DecodeOptions } from './commands/decode.js';
export { resolveDogStatsDConfig, envBool, envInt, envList } from './config/env.js';
export type { DogStatsDConfig, Env } from './config/env.js';
