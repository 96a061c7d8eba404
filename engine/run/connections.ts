/**
 * One transport per host per run, reused by every task. Transports connect lazily on first use, so
 * controller-only tasks and `port-check from: controller` never open a connection.
 */
import type { Command, ExecOptions, ExecResult, Transport } from '../transport/transport.js';
import type { Inventory, InventoryHost } from '../inventory/model.js';
import { createTransport, type ConnectRetry } from '../transport/index.js';

export interface ConnectionOptions {
  trustNewHostKeys: boolean;
  knownHostsFile?: string;
  connectTimeoutMs?: number;
  onConnectRetry?: (retry: ConnectRetry) => void;
}

/** `overrides` are per-connection settings a module may ask for (wait-for-connection's connect_timeout). */
export type TransportFactory = (host: InventoryHost, overrides?: { connectTimeoutMs?: number }) => Transport;

/**
 * What tasks hold: stays the same object for the whole run, while the connection behind it can be
 * replaced (renew) when a host went away and must be reached afresh.
 */
class LazyTransport implements Transport {
  constructor(private inner: Transport) {}
  /** Swaps in a fresh transport; returns the old one for the caller to close. */
  renew(next: Transport): Transport {
    const old = this.inner;
    this.inner = next;
    return old;
  }
  get host() {
    return this.inner.host;
  }
  connect() {
    return this.inner.connect();
  }
  async exec(command: Command, opts?: ExecOptions): Promise<ExecResult> {
    await this.inner.connect();
    return this.inner.exec(command, opts);
  }
  async put(path: string, content: string | Buffer, mode?: number) {
    await this.inner.connect();
    return this.inner.put(path, content, mode);
  }
  async get(path: string) {
    await this.inner.connect();
    return this.inner.get(path);
  }
  close() {
    return this.inner.close();
  }
}

export class Connections {
  private readonly transports = new Map<string, LazyTransport>();
  /** Replaced connections still closing (a close waits for a connect in progress). */
  private readonly retiring = new Set<Promise<void>>();
  private readonly factory: TransportFactory;
  constructor(
    private readonly inv: Inventory,
    opts: ConnectionOptions,
    factory?: TransportFactory,
  ) {
    this.factory =
      factory ??
      ((h, overrides) =>
        createTransport(
          { name: h.name, connection: h.connection, address: h.address, port: h.port, user: h.user, privateKeyPath: h.privateKey, knownHostsPath: opts.knownHostsFile ?? h.knownHostsFile },
          { trustNewHostKeys: opts.trustNewHostKeys, connectTimeoutMs: overrides?.connectTimeoutMs ?? opts.connectTimeoutMs ?? h.connectTimeoutMs, onConnectRetry: opts.onConnectRetry },
        ));
  }

  host(name: string): InventoryHost {
    return this.inv.hosts.get(name) ?? this.inv.localhost;
  }

  get(name: string): Transport {
    return this.lazy(name);
  }

  private lazy(name: string): LazyTransport {
    let t = this.transports.get(name);
    if (!t) {
      t = new LazyTransport(this.factory(this.host(name)));
      this.transports.set(name, t);
    }
    return t;
  }

  /**
   * Drops the host's connection: the next use opens a new one (with `connectTimeoutMs` when
   * given). A connection that was lost stays lost, so this is how a host that went away (a
   * reboot, a power-on) is reached again. Every task keeps its handle on the host's transport.
   */
  reconnect(name: string, overrides?: { connectTimeoutMs?: number }): void {
    const t = this.lazy(name);
    const old = t.renew(this.factory(this.host(name), overrides));
    const closing = old.close().catch(() => undefined);
    this.retiring.add(closing);
    void closing.finally(() => this.retiring.delete(closing));
  }

  /** The controller itself (local), for modules that act from here. */
  controller(): Transport {
    let t = this.transports.get('\0controller');
    if (!t) {
      t = new LazyTransport(createTransport({ name: 'localhost', connection: 'local' }, { trustNewHostKeys: false, connectTimeoutMs: 10000 }));
      this.transports.set('\0controller', t);
    }
    return t;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.transports.values()].map((t) => t.close()));
    await Promise.allSettled([...this.retiring]);
    this.transports.clear();
  }
}
