/**
 * Transports: how tsplay reaches a host. Importing this file does not load node-ssh; the SSH
 * transport loads it on its first connect.
 */
import os from 'node:os';
import { LocalTransport } from './local.js';
import { SshTransport, type ConnectRetry } from './ssh.js';
import type { Transport } from './transport.js';

export * from './transport.js';
export { LocalTransport, type LocalTransportOptions } from './local.js';
export { SshTransport, type SshTransportOptions, type ConnectRetry } from './ssh.js';
export { TransferError } from './transfer-error.js';
export {
  appendKnownHost,
  entryMatchesHost,
  fingerprint,
  keyTypeOf,
  knownHostName,
  parseKnownHosts,
  readKnownHosts,
  verifyHostKey,
  type HostKeyVerdict,
  type KnownHostEntry,
} from './known-hosts.js';

export interface TransportSpec {
  /** Inventory name. */
  name: string;
  connection: 'ssh' | 'local';
  /** Defaults to the inventory name. */
  address?: string;
  port?: number;
  /** Defaults to the user running tsplay, as ssh does. */
  user?: string;
  privateKeyPath?: string;
  knownHostsPath?: string;
}

export interface TransportRunOptions {
  trustNewHostKeys: boolean;
  connectTimeoutMs: number;
  onConnectRetry?: (retry: ConnectRetry) => void;
}

export function createTransport(spec: TransportSpec, opts: TransportRunOptions): Transport {
  if (spec.connection === 'local') return new LocalTransport({ host: spec.name });
  return new SshTransport({
    host: spec.name,
    address: spec.address ?? spec.name,
    port: spec.port,
    user: spec.user ?? os.userInfo().username,
    privateKeyPath: spec.privateKeyPath,
    knownHostsPath: spec.knownHostsPath,
    trustNewHostKeys: opts.trustNewHostKeys,
    connectTimeoutMs: opts.connectTimeoutMs,
    onConnectRetry: opts.onConnectRetry,
  });
}
