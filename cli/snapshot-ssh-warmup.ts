/**
 * The SSH part of the start-up snapshot's warm-up (cli/snapshot-entry.ts): the warm-up playbook
 * (cli/snapshot-warmup.ts) again, through tsplay's SSH transport and one instance of the SSH
 * client's module graph (build/snapshot.ts, sshGraph, says why it can be made more than once),
 * against ssh2's own server over in-memory pipes: key exchange, host key check against a
 * known_hosts file, public-key login with an ed25519 key, the long-lived remote shell (the server
 * answers as its /bin/sh would), and the disconnect. V8 keeps the bytecode of those functions in
 * the snapshot, shared with the instance a run makes at its first connection; this instance and
 * its keys (made here, for this warm-up only, in a temporary folder removed after) are dropped
 * before the snapshot is taken. Nothing leaves the process.
 *
 * The instance is made without ssh2's native crypto binding and cpu-features (a snapshot cannot
 * hold an addon), so it compiles ssh2's JavaScript ciphers rather than the binding's wrappers:
 * those few stay to compile at run time.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import type { NodeSSH } from 'node-ssh';
import { knownHostName } from '../engine/transport/known-hosts.js';
import { REMOTE_SHELL_COMMAND } from '../engine/transport/remote-shell.js';
import { SshTransport } from '../engine/transport/ssh.js';
import { answerAsShell, warmRun } from './snapshot-warmup.js';

/** What `require('tsplay:ssh-graph')(require)` returns (build/snapshot.ts). */
export interface SshGraph {
  nodeSsh: { NodeSSH: typeof NodeSSH };
  warmUp(): { Server: WarmServer; generateKeyPairSync(type: 'ed25519'): { private: string; public: string } };
}

type WarmServer = new (config: { hostKeys: string[] }, onClient: (client: WarmServerClient) => void) => { injectSocket(sock: Duplex): void; close(): void };

interface WarmServerClient {
  on(event: 'authentication', fn: (ctx: { method: string; accept(): void; reject(): void }) => void): this;
  on(event: 'session', fn: (accept: () => WarmSession) => void): this;
  on(event: 'error', fn: () => void): this;
}

interface WarmSession {
  on(event: 'exec', fn: (accept: () => WarmChannel, reject: () => void, info: { command: string }) => void): this;
}

interface WarmChannel {
  on(event: 'data', fn: (chunk: Buffer) => void): this;
  write(data: Buffer): boolean;
  stderr: { write(data: Buffer): boolean };
  exit(code: number): void;
  end(): void;
}

/**
 * Two streams, each writing into the other, like the two ends of a socket: what one end writes in
 * a tick reaches the other as one chunk, a copy (ssh2 reuses its packet buffers once written).
 * With each write a chunk of its own, ssh2's JavaScript AES-GCM decipher (the one used without the
 * native binding) failed to authenticate the client's first login packet (seen building this).
 */
function pipePair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const end = (other: () => Duplex) => {
    let pending: Buffer[] = [];
    const flush = (): void => {
      const chunk = Buffer.concat(pending);
      pending = [];
      other().push(chunk);
    };
    return new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        if (pending.push(Buffer.from(chunk)) === 1) process.nextTick(flush);
        done();
      },
      final(done) {
        process.nextTick(() => {
          if (pending.length > 0) flush();
          other().push(null);
          done();
        });
      },
    });
  };
  ends.push(
    end(() => ends[1]!),
    end(() => ends[0]!),
  );
  return [ends[0]!, ends[1]!];
}

/** Only Node's own modules: no native addon, no optional dependency (cpu-features). */
function requireBuiltinsOnly(id: string): unknown {
  if (!isBuiltin(id)) throw new Error(`${id} is not loaded in the snapshot warm-up`);
  return require(id);
}

/**
 * Runs cli/snapshot-warmup.ts's playbook on every host of `inventory` through the real SSH
 * transport and a fresh instance of the SSH client graph from `makeGraph`, against ssh2's server in
 * memory; resolves with the run's outcome.
 */
export async function warmSsh(makeGraph: (req: (id: string) => unknown) => SshGraph, inventory: string): Promise<string> {
  const graph = makeGraph(requireBuiltinsOnly);
  const { Server, generateKeyPairSync } = graph.warmUp();
  const hostKey = generateKeyPairSync('ed25519');
  const userKey = generateKeyPairSync('ed25519');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-snapshot-ssh-warmup-'));
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject()));
    client.on('session', (accept) =>
      accept().on('exec', (acceptExec, _reject, info) => {
        const channel = acceptExec();
        if (info.command !== REMOTE_SHELL_COMMAND) {
          // A command on a channel of its own: it succeeds at once.
          channel.exit(0);
          channel.end();
          return;
        }
        channel.on('data', (chunk) =>
          answerAsShell(
            chunk.toString(),
            (b) => channel.write(b),
            (b) => channel.stderr.write(b),
          ),
        );
      }),
    );
  });
  try {
    const keyFile = path.join(dir, 'id_ed25519');
    writeFileSync(keyFile, userKey.private, { mode: 0o600 });
    const knownHosts = path.join(dir, 'known_hosts');
    writeFileSync(knownHosts, '');
    return await warmRun(inventory, (h) => {
      appendFileSync(knownHosts, `${knownHostName(h.address, h.port)} ${hostKey.public}\n`);
      return new SshTransport({
        host: h.name,
        address: h.address,
        port: h.port,
        user: 'warm-up',
        privateKeyPath: keyFile,
        knownHostsPath: knownHosts,
        connectRetries: 0,
        client: graph.nodeSsh.NodeSSH,
        socket: () => {
          const [clientEnd, serverEnd] = pipePair();
          server.injectSocket(serverEnd);
          return clientEnd;
        },
      });
    });
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
