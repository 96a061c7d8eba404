/**
 * What the integration tests share: a scratch directory of playbooks on the controller, the lab
 * hosts' private /tmp seen from the controller (to check files without going through tsplay),
 * inventories derived from the lab's, and --json output parsed into events.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { EngineEvent } from '../../engine/events.js';
import { runTsplay, type CliOptions, type CliResult } from '../helpers/cli.js';
import type { Lab } from '../helpers/lab.js';

export interface Scratch {
  /** Controller-side directory holding the playbooks of this test file. */
  dir: string;
  /** A unique directory name under /tmp on the hosts (created by the playbooks that need it). */
  remote: string;
  write(name: string, text: string): string;
  cleanup(hosts: string[]): void;
}

export function scratch(lab: Lab, tag: string): Scratch {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tsplay-it-${tag}-`));
  const remote = `/tmp/tsplay-it-${tag}-${randomBytes(4).toString('hex')}`;
  return {
    dir,
    remote,
    write(name, text) {
      const p = path.join(dir, name);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    cleanup(hosts) {
      rmSync(dir, { recursive: true, force: true });
      for (const h of hosts) rmSync(onHost(lab, h, remote), { recursive: true, force: true });
    },
  };
}

/**
 * Where a path under /tmp on a lab host lives on the controller: each host has a private /tmp
 * bind-mounted from the lab's state dir.
 */
export function onHost(lab: Lab, host: string, remotePath: string): string {
  if (!remotePath.startsWith('/tmp/')) throw new Error(`only /tmp is private to a lab host, not ${remotePath}`);
  return path.join(lab.dir, 'hosts', host, 'tmp', remotePath.slice('/tmp/'.length));
}

export function hostFile(lab: Lab, host: string, remotePath: string): string | undefined {
  const p = onHost(lab, host, remotePath);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

export function hostMode(lab: Lab, host: string, remotePath: string): number {
  return statSync(onHost(lab, host, remotePath)).mode & 0o7777;
}

/** The lab inventory plus `extra` YAML appended under `all.children` (indented by the caller). */
export function inventoryWith(lab: Lab, dir: string, extra: string, name = 'inventory.yml'): string {
  const base = readFileSync(lab.inventory, 'utf8');
  if (!/\n  children:\n/.test(base)) throw new Error(`${lab.inventory} has no all.children to extend`);
  const p = path.join(dir, name);
  writeFileSync(p, base.replace(/\n?$/, '\n') + extra);
  return p;
}

/** `tsplay run --json`, with the events parsed (every stdout line must be one JSON object). */
export async function runJson(args: string[], opts: CliOptions = {}): Promise<CliResult & { events: EngineEvent[] }> {
  const r = await runTsplay(['run', '--json', ...args], opts);
  const events = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as EngineEvent;
      } catch {
        throw new Error(`--json printed a line that is not JSON: ${l}\n--- stderr\n${r.stderr}`);
      }
    });
  return { ...r, events };
}

type HostResult = Extract<EngineEvent, { type: 'host.result' }>;

export function results(events: EngineEvent[], task?: string): HostResult[] {
  return events.filter((e): e is HostResult => e.type === 'host.result' && (task === undefined || e.task === task));
}

/** host → status of one task. */
export function statuses(events: EngineEvent[], task: string): Record<string, string> {
  return Object.fromEntries(results(events, task).map((r) => [r.host, r.status]));
}

export function recap(events: EngineEvent[]) {
  const end = events.find((e): e is Extract<EngineEvent, { type: 'run.end' }> => e.type === 'run.end');
  if (!end) throw new Error('no run.end event');
  return end.recap;
}

/** A TCP listener on 127.0.0.1 that counts connections and closes them (a host that must not be contacted). */
export async function connectionCounter(): Promise<{ port: number; count(): number; close(): Promise<void> }> {
  let n = 0;
  const srv = net.createServer((sock) => {
    n++;
    sock.destroy();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    count: () => n,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

/** Forwards 127.0.0.1:listenPort to 127.0.0.1:targetPort once started: a host that "comes up". */
export function forwarder(listenPort: number, targetPort: number): { start(): Promise<void>; close(): Promise<void> } {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      socks.add(s);
      s.on('close', () => socks.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  let listening = false;
  return {
    start: () =>
      new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(listenPort, '127.0.0.1', () => {
          listening = true;
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of socks) s.destroy();
        if (!listening) return resolve();
        srv.close(() => resolve());
      }),
  };
}
