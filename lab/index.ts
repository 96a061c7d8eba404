/** The lab's public surface, for the CLI, tests and benchmarks. */
export { labPaths, hostPaths, type LabPaths, type HostPaths } from './paths.js';
export { labUp, labDown, labStart, labStop, labHeat, labPartition, labHeal, parseWorkers, requireRoot, type UpOptions } from './lifecycle.js';
export { labStatus, formatStatus, type LabStatus, type HostStatus } from './status.js';
export { parseCelsius, setTemperature, readTemperature } from './thermal.js';
export { labHosts, findHost, BRIDGE, SUBNET, DISTCC_PORT, DEFAULT_WORKERS, MAX_WORKERS, type LabHost } from './topology.js';
export { readLabConfig } from './config.js';
export { LabError, isLabError } from './errors.js';
export type { LabLog } from './log.js';
