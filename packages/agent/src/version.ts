/** kennel's own version (the agent version it reports to the intake is the forwarder's `AGENT_VERSION`). */
export const KENNEL_VERSION = '0.1.0';
