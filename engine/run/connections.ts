/**
 * One transport per host per run, reused by every task. Transports connect lazily on first use, so
 * controller-only tasks and `port-check from: controller` never open a connection.
 */
import type { Command, ExecOptions, ExecResult, Transport } from '../transport/transport.js';
import type { Inventory, InventoryHost } from '../inventory/model.js';
import { createTransport } from '../transport/index.js';

export interface ConnectionOptions {
  trustNewHostKeys: boolean;
  knownHostsFile?: string;
  connectTimeoutMs?: number;
}

export type TransportFactory = (host: InventoryHost) => Transport;

class LazyTransport implements Transport {
  constructor(private readonly inner: Transport) {}
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
  private readonly transports = new Map<string, Transport>();
  private readonly factory: TransportFactory;
  constructor(
    private readonly inv: Inventory,
    opts: ConnectionOptions,
    factory?: TransportFactory,
  ) {
    this.factory =
      factory ??
      ((h) =>
        createTransport(
          { name: h.name, connection: h.connection, address: h.address, port: h.port, user: h.user, privateKeyPath: h.privateKey, knownHostsPath: h.knownHostsFile ?? opts.knownHostsFile },
          { trustNewHostKeys: opts.trustNewHostKeys, connectTimeoutMs: opts.connectTimeoutMs ?? h.connectTimeoutMs },
        ));
  }

  host(name: string): InventoryHost {
    return this.inv.hosts.get(name) ?? this.inv.localhost;
  }

  get(name: string): Transport {
    let t = this.transports.get(name);
    if (!t) {
      t = new LazyTransport(this.factory(this.host(name)));
      this.transports.set(name, t);
    }
    return t;
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
    this.transports.clear();
  }
}
