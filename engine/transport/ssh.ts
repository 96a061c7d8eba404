/**
 * SSH transport over node-ssh (ssh2). One connection per host per run, shared by all tasks;
 * at most `maxChannels` channels open on it at once (sshd's MaxSessions defaults to 10).
 *
 * Every exec runs in its own process group on the host, whose id is written to a pid file under
 * /tmp; on timeout or abort the whole group is killed over the same connection.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import type { NodeSSH } from 'node-ssh';
import {
  appendKnownHost,
  fingerprint,
  keyTypeOf,
  knownHostName,
  knownKeyTypes,
  readKnownHosts,
  verifyHostKey,
  type KnownHostEntry,
} from './known-hosts.js';
import { OutputCollector, signalExitCode, stoppedResult } from './output.js';
import {
  GET_MISSING_RC,
  SETSID_PROBE,
  getScript,
  killGroupScript,
  putScript,
  wrapCommand,
} from './remote-command.js';
import { REMOTE_SHELL_COMMAND, RemoteShell, ShellGoneError, type ShellChannel } from './remote-shell.js';
import { Semaphore } from './semaphore.js';
import { classifyConnectError, connectionLost, where, type ConnectContext } from './ssh-errors.js';
import { TransferError } from './transfer-error.js';
import {
  HostKeyError,
  UnreachableError,
  type Command,
  type ExecOptions,
  type ExecResult,
  type Transport,
} from './transport.js';

export interface SshTransportOptions {
  /** Inventory name. */
  host: string;
  /** Address to connect to (name or IP). */
  address: string;
  port?: number;
  user: string;
  privateKeyPath?: string;
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK when no privateKeyPath is given. */
  agent?: string;
  /** Defaults to ~/.ssh/known_hosts. */
  knownHostsPath?: string;
  /** Accept and record unknown host keys (never changed or revoked ones). */
  trustNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  /**
   * Extra connect attempts when the server drops us during the handshake (MaxStartups). Default 5:
   * with backoff 0.25, 0.5, 1, 2, 4 s (halved at random) a crowd of forks spreads over ~8 s.
   * No attempt starts later than connectTimeoutMs after the first, so connecting takes at most
   * about twice the connect timeout. Authentication and host-key failures are never retried.
   */
  connectRetries?: number;
  /** Told before each retry (for the run's decision log). */
  onConnectRetry?: (retry: ConnectRetry) => void;
  /** Concurrent channels on the connection. Default 8 (sshd MaxSessions is 10; 2 are kept for kills). */
  maxChannels?: number;
  /** Keepalive interval; the connection is declared lost after 3 unanswered keepalives. Default 5000. */
  keepaliveIntervalMs?: number;
  /**
   * Run commands through one long-lived shell on the host when it is free (remote-shell.ts)
   * instead of a channel each. Default: on, unless the environment sets TSPLAY_SSH_SHELL=0.
   */
  remoteShell?: boolean;
  /**
   * For the start-up snapshot's warm-up (cli/snapshot-ssh-warmup.ts), which connects to ssh2's
   * server in memory: the client class to use instead of node-ssh's, and the stream to speak SSH
   * over instead of a TCP connection to address:port.
   */
  client?: typeof NodeSSH;
  socket?: () => Duplex;
}

/** A connect attempt that failed in a way worth retrying, and when the next one starts. */
export interface ConnectRetry {
  host: string;
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  /** Attempts allowed in all. */
  attempts: number;
  delayMs: number;
  /** What went wrong, e.g. host/connection-lost. */
  code: string;
  message: string;
}

/** How long killing a timed-out/aborted command may take before exec settles anyway. */
const KILL_GRACE_MS = 2500;
/** After a kill, how long the remote shell may take to report the end of the killed command before it is dropped. */
const SHELL_SETTLE_MS = 300;
/** How long close() waits for the server to acknowledge the disconnect before dropping the socket. */
const CLOSE_GRACE_MS = 1000;
const KEEPALIVE_COUNT_MAX = 3;
const DEFAULT_CONNECT_RETRIES = 5;
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 4000;
const SERVER_HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

type State = 'idle' | 'ready' | 'lost' | 'closed';
type StopReason = 'timeout' | 'abort';

interface ChannelIo {
  stdin?: string | Buffer;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

/** The part of an ssh2 ClientChannel we use. */
interface Closable {
  close(): void;
}

type RunOutcome = { rc: number } | { stopped: StopReason; note: string };

/** How a command is stopped: the signal, and what finds its processes on the host. */
interface StopSpec {
  signal: AbortSignal;
  pidFile: string;
  execId: string;
}

export class SshTransport implements Transport {
  readonly host: string;
  private readonly address: string;
  private readonly port: number;
  private readonly user: string;
  private readonly privateKeyPath?: string;
  private readonly agent?: string;
  private readonly knownHostsPath: string;
  private readonly trustNewHostKeys: boolean;
  private readonly connectTimeoutMs: number;
  private readonly connectRetries: number;
  private readonly onConnectRetry?: (retry: ConnectRetry) => void;
  private readonly keepaliveIntervalMs: number;
  private readonly channels: Semaphore;
  private readonly killChannels = new Semaphore(2);

  private state: State = 'idle';
  private ssh?: NodeSSH;
  private connecting?: Promise<void>;
  private lostError?: UnreachableError;
  private hasSetsid = false;
  private readonly useShell: boolean;
  private shell?: RemoteShell;
  private readonly lossListeners = new Set<(err: UnreachableError) => void>();
  private readonly client?: typeof NodeSSH;
  private readonly socket?: () => Duplex;

  constructor(opts: SshTransportOptions) {
    this.host = opts.host;
    this.address = opts.address;
    this.port = opts.port ?? 22;
    this.user = opts.user;
    this.privateKeyPath = opts.privateKeyPath === undefined ? undefined : expandHome(opts.privateKeyPath);
    this.agent = opts.agent ?? (opts.privateKeyPath === undefined ? process.env.SSH_AUTH_SOCK : undefined);
    this.knownHostsPath = expandHome(opts.knownHostsPath ?? path.join(os.homedir(), '.ssh', 'known_hosts'));
    this.trustNewHostKeys = opts.trustNewHostKeys ?? false;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.connectRetries = Math.max(0, Math.min(opts.connectRetries ?? DEFAULT_CONNECT_RETRIES, 10));
    this.onConnectRetry = opts.onConnectRetry;
    this.keepaliveIntervalMs = opts.keepaliveIntervalMs ?? 5000;
    this.channels = new Semaphore(opts.maxChannels ?? 8);
    this.useShell = opts.remoteShell ?? process.env.TSPLAY_SSH_SHELL !== '0';
    this.client = opts.client;
    this.socket = opts.socket;
  }

  connect(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async exec(command: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    const execId = randomBytes(8).toString('hex');
    const channelPidFile = `/tmp/.tsplay-${execId}.pgid`;
    const build = (pidFile: string, setsid: boolean, keepPidFile = false, direct = false): string =>
      wrapCommand(command, { env: opts.env, cwd: opts.cwd, pidFile, execId, setsid, keepPidFile, direct });
    // Built before connecting so a bad env name fails without touching the host.
    build(channelPidFile, false);
    if (opts.signal?.aborted) return stoppedResult('abort', '', '');

    const stop = new AbortController();
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => stop.abort('timeout'), Math.max(0, opts.timeoutMs));
    const onAbort = (): void => stop.abort('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const stdout = new OutputCollector(opts.onStdout);
    const stderr = new OutputCollector(opts.onStderr);
    let release: (() => void) | undefined;
    try {
      const ssh = await untilAborted(this.ready(), stop.signal);
      const io: ChannelIo = { stdin: opts.stdin, onStdout: (b) => stdout.push(b), onStderr: (b) => stderr.push(b) };
      const shell = opts.stdin === undefined && this.shell?.idle ? this.shell : undefined;
      let outcome: RunOutcome;
      if (shell) {
        const pidFile = `${shell.pidPrefix}${execId}.pgid`;
        outcome = await this.runInShell(ssh, shell, build(pidFile, true, true, shell.hasProc), io, { signal: stop.signal, pidFile, execId });
      } else {
        release = await this.channels.acquire(stop.signal);
        outcome = await this.run(ssh, build(channelPidFile, this.hasSetsid), io, { signal: stop.signal, pidFile: channelPidFile, execId });
      }
      if ('rc' in outcome) return { rc: outcome.rc, stdout: stdout.text(), stderr: stderr.text() };
      return stoppedResult(outcome.stopped, stdout.text(), stderr.text() + outcome.note);
    } catch (err) {
      if (stop.signal.aborted && !(err instanceof UnreachableError)) {
        return stoppedResult(stop.signal.reason as StopReason, stdout.text(), stderr.text());
      }
      throw err;
    } finally {
      release?.();
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async put(file: string, content: string | Buffer, mode?: number): Promise<void> {
    const ssh = await this.ready();
    const stderr = new OutputCollector();
    const outcome = await this.channels.run(() =>
      this.run(ssh, putScript(file, mode), {
        stdin: typeof content === 'string' ? Buffer.from(content) : content,
        onStdout: () => undefined,
        onStderr: (b) => stderr.push(b),
      }),
    );
    if ('rc' in outcome && outcome.rc === 0) return;
    throw new TransferError(
      `could not write ${file} on ${this.host}: ${stderr.text().trim() || `exit status ${'rc' in outcome ? outcome.rc : '?'}`}`,
      'transport/put-failed',
      'Does the directory exist, and may the SSH user write to it?',
    );
  }

  async get(file: string): Promise<Buffer | null> {
    const ssh = await this.ready();
    const chunks: Buffer[] = [];
    const stderr = new OutputCollector();
    const outcome = await this.channels.run(() =>
      this.run(ssh, getScript(file), { onStdout: (b) => chunks.push(b), onStderr: (b) => stderr.push(b) }),
    );
    if ('rc' in outcome && outcome.rc === 0) return Buffer.concat(chunks);
    if ('rc' in outcome && outcome.rc === GET_MISSING_RC) return null;
    throw new TransferError(
      `could not read ${file} on ${this.host}: ${stderr.text().trim() || 'unknown error'}`,
      'transport/get-failed',
      'May the SSH user read it?',
    );
  }

  async close(): Promise<void> {
    if (this.connecting) await this.connecting.catch(() => undefined);
    this.state = 'closed';
    const ssh = this.ssh;
    if (!ssh) return;
    const client = ssh.connection;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        // A peer behind a partition never acknowledges our FIN: the half-closed socket would keep
        // the process alive for minutes of TCP retransmits. ssh2's destroy() is a no-op once the
        // socket is ended, so reach the socket itself.
        (client as unknown as { _sock?: { destroy(): void } } | undefined)?._sock?.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      client?.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ssh.dispose();
      if (!client) resolve();
    });
  }

  // ---- connection -------------------------------------------------------------------------

  private get context(): ConnectContext {
    return {
      host: this.host,
      address: this.address,
      port: this.port,
      user: this.user,
      credentials: this.privateKeyPath
        ? `key ${this.privateKeyPath}`
        : this.agent
          ? `the keys in the SSH agent (${this.agent})`
          : 'no key at all: no privateKeyPath and SSH_AUTH_SOCK is not set',
      connectTimeoutMs: this.connectTimeoutMs,
    };
  }

  /** The live client, connecting first if needed; a lost connection stays lost. */
  private async ready(): Promise<NodeSSH> {
    if (this.state === 'lost') throw this.lostError!;
    await this.connect();
    if (this.state !== 'ready' || !this.ssh) throw this.lostError ?? connectionLost(this.context, 'closed');
    return this.ssh;
  }

  private async open(): Promise<void> {
    const Client = this.client ?? (await import('node-ssh')).NodeSSH;
    const privateKey = await this.readPrivateKey();
    const entries = await this.readKnownHosts();
    const attempts = this.connectRetries + 1;
    const deadline = Date.now() + this.connectTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const ssh = await this.attempt(Client, privateKey, entries);
        this.adopt(ssh);
        // The shell's greeting says whether setsid exists; without a shell, ask on a channel.
        const shell = this.useShell ? await this.startShell(ssh).catch(() => undefined) : undefined;
        if (shell) {
          this.hasSetsid = shell.hasSetsid;
          // Without setsid the shell could not give a command its own process group to kill.
          if (shell.hasSetsid) this.shell = shell;
          else shell.close();
        } else {
          const probe = await ssh.execCommand(SETSID_PROBE).catch(() => undefined);
          this.hasSetsid = probe?.code === 0;
        }
        return;
      } catch (err) {
        const { error, retryable } = classifyConnectError(err, this.context, attempt);
        if (!retryable || attempt >= attempts) throw error;
        // Exponential backoff with jitter, so a crowd of forks refused together does not return together.
        const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
        const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
        if (Date.now() + delayMs > deadline) throw error;
        this.onConnectRetry?.({ host: this.host, attempt: attempt + 1, attempts, delayMs, code: error.code, message: error.message });
        await sleep(delayMs);
      }
    }
  }

  private async attempt(
    Client: typeof NodeSSH,
    privateKey: string | undefined,
    entries: readonly KnownHostEntry[],
  ): Promise<NodeSSH> {
    const ssh = new Client();
    const name = knownHostName(this.address, this.port);
    const algorithms = knownKeyTypes(entries, name).flatMap((t) => SERVER_HOST_KEY_ALGORITHMS[t] ?? []);
    let keyError: HostKeyError | undefined;
    try {
      const connecting = ssh.connect({
        host: this.address,
        port: this.port,
        sock: this.socket?.(),
        username: this.user,
        privateKey,
        agent: privateKey === undefined ? this.agent : undefined,
        tryKeyboard: false,
        // Straight to the key: ssh2 would first try "none" authentication, a round trip that
        // only ever fails on a host that wants keys.
        authHandler: [privateKey === undefined ? 'agent' : 'publickey'],
        readyTimeout: this.connectTimeoutMs,
        keepaliveInterval: this.keepaliveIntervalMs,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        // Ask for a key type we can verify, as OpenSSH does.
        algorithms: algorithms.length > 0 ? { serverHostKey: algorithms } : undefined,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          this.checkHostKey(entries, name, key).then(
            () => verify(true),
            (err: HostKeyError) => {
              keyError = err;
              verify(false);
            },
          );
        },
      });
      // TCP_NODELAY, as OpenSSH's client sets it. Without it Nagle holds each exec's small
      // channel-request packet until the previous one is acknowledged, and the server's delayed
      // ACK turns every task into a ~40 ms wait per host. node-ssh has created the ssh2 client and
      // its socket synchronously by now (the key is passed as text, so nothing was awaited).
      ssh.connection?.setNoDelay(true);
      await connecting;
      return ssh;
    } catch (err) {
      ssh.dispose();
      throw keyError ?? err;
    }
  }

  /**
   * Starts the long-lived shell on its own channel, which holds one channel slot while it lives.
   * Any failure (sshd refusing another session, an odd login shell) just means no shell.
   */
  private async startShell(ssh: NodeSSH): Promise<RemoteShell> {
    const release = await this.channels.acquire();
    try {
      const channel = await new Promise<ShellChannel>((resolve, reject) => {
        // Under /bin/sh whatever the user's login shell is (as every command's wrapper is): the
        // script is POSIX sh, and forking dash for each command is cheaper than forking bash.
        ssh.connection!.exec(REMOTE_SHELL_COMMAND, (err: Error | undefined, ch: unknown) => (err ? reject(err) : resolve(ch as unknown as ShellChannel)));
      });
      channel.on('close', release);
      try {
        return await RemoteShell.start(channel, this.connectTimeoutMs);
      } catch (err) {
        channel.close();
        throw err;
      }
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Runs one wrapped command in the long-lived shell. Like run(): rejects with
   * host/connection-lost if the connection drops, and stopping kills the command's process group
   * (over a kill channel, as for a channel exec). A shell that does not report the end of a killed
   * command promptly, or that ends under a command, is dropped; later commands use channels.
   */
  private runInShell(
    ssh: NodeSSH,
    shell: RemoteShell,
    remote: string,
    io: ChannelIo,
    stop: StopSpec,
  ): Promise<RunOutcome> {
    let running!: Promise<number>;
    const afterKill = async (): Promise<void> => {
      const ended = await Promise.race([running.then(() => true, () => true), sleep(SHELL_SETTLE_MS).then(() => false)]);
      if (!ended) this.dropShell(shell);
    };
    return this.supervise(ssh, stop, afterKill, (ctl, resolve, reject) => {
      running = shell.run(remote, io.onStdout, io.onStderr);
      running.then(
        (rc) => {
          if (!ctl.stopping) ctl.settle(() => resolve({ rc }));
        },
        (err: unknown) => {
          if (ctl.stopping) return;
          this.dropShell(shell);
          if (this.state !== 'ready') {
            ctl.settle(() => reject(this.lostError ?? connectionLost(this.context, 'closed')));
          } else if (err instanceof ShellGoneError) {
            io.onStderr(Buffer.from(`\n[tsplay] the remote shell on ${this.host} ended before the command did; its exit status is unknown\n`));
            ctl.settle(() => resolve({ rc: 255 }));
          } else {
            ctl.settle(() => reject(err));
          }
        },
      );
    });
  }

  /**
   * What run() and runInShell() share: a promise settled once; losing the connection rejects it
   * (unless a stop is under way); a stop kills the command's process group over a kill channel,
   * lets `afterKill` tidy up, and resolves with the reason. `start` launches the command.
   */
  private supervise(
    ssh: NodeSSH,
    stop: StopSpec | undefined,
    afterKill: () => void | Promise<void>,
    start: (
      ctl: { settle(fn: () => void): void; readonly stopping: boolean },
      resolve: (o: RunOutcome) => void,
      reject: (err: unknown) => void,
    ) => void,
  ): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      let settled = false;
      let stopping = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.lossListeners.delete(onLost);
        stop?.signal.removeEventListener('abort', onStop);
        fn();
      };
      const onLost = (err: UnreachableError): void => {
        if (!stopping) settle(() => reject(err));
      };
      const onStop = (): void => {
        if (settled || stopping || !stop) return;
        stopping = true;
        const reason = stop.signal.reason as StopReason;
        void this.killGroup(ssh, stop.pidFile, stop.execId).then(async (note) => {
          await afterKill();
          settle(() => resolve({ stopped: reason, note }));
        });
      };
      this.lossListeners.add(onLost);
      stop?.signal.addEventListener('abort', onStop, { once: true });
      start({ settle, get stopping() { return stopping; } }, resolve, reject);
      if (stop?.signal.aborted) onStop();
    });
  }

  private dropShell(shell: RemoteShell): void {
    shell.close();
    if (this.shell === shell) this.shell = undefined;
  }

  /** Takes over a freshly connected client: error/close listeners, state. */
  private adopt(ssh: NodeSSH): void {
    const client = ssh.connection!;
    client.setMaxListeners(0);
    let lastError: { message?: string; code?: string } | undefined;
    client.on('error', (err: { message?: string; code?: string }) => {
      lastError = err;
    });
    client.on('close', () => {
      if (this.ssh !== ssh) return;
      this.ssh = undefined;
      const why =
        this.state === 'closed'
          ? 'closed by tsplay'
          : lastError?.message === 'Keepalive timeout'
            ? `no answer to ${KEEPALIVE_COUNT_MAX} keepalives over ${Math.round((KEEPALIVE_COUNT_MAX * this.keepaliveIntervalMs) / 1000)} s`
            : lastError
              ? (lastError.code ?? lastError.message ?? 'error')
              : 'the server closed it';
      if (this.state === 'ready') this.state = 'lost';
      this.lostError = connectionLost(this.context, why);
      for (const listener of [...this.lossListeners]) listener(this.lostError);
    });
    this.ssh = ssh;
    this.lostError = undefined;
    this.state = 'ready';
  }

  private async checkHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): Promise<void> {
    const verdict = verifyHostKey(entries, name, key);
    const type = keyTypeOf(key);
    const fp = fingerprint(key);
    const at = where(this.context);
    const file = this.knownHostsPath;
    const onHost = `ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2-.*$/g, '')}_key.pub`;
    switch (verdict.status) {
      case 'match':
        return;
      case 'revoked':
        throw new HostKeyError(
          `ssh to ${at}: the host presented ${type} ${fp}, which ${file} line ${verdict.entry.line} marks @revoked; refusing to connect`,
          'ssh/revoked-host-key',
          'A revoked key must never be accepted. Find out why the host still uses it and give it a new host key.',
        );
      case 'changed': {
        const lines = verdict.entries.map((e) => e.line).join(', ');
        const old = verdict.entries.map((e) => fingerprint(e.key)).join(', ');
        throw new HostKeyError(
          `ssh to ${at}: HOST KEY CHANGED — the host presented ${type} ${fp}, but ${file} line ${lines} records ${old}; refusing to connect`,
          'ssh/changed-host-key',
          `Someone may be intercepting the connection, or the host was reinstalled or its keys rotated. ` +
            `Compare ${fp} with \`${onHost}\` on the host's console. Only if they match, remove the old entry ` +
            `(line ${lines} of ${file}) with \`ssh-keygen -R '${name}' -f ${file}\` and re-run. ` +
            `--trust-new-host-keys never overrides a changed key.`,
        );
      }
      case 'unknown': {
        if (this.trustNewHostKeys) {
          await appendKnownHost(file, name, key);
          return;
        }
        const others = verdict.otherTypes.length > 0 ? ` (${file} only has ${verdict.otherTypes.join(', ')} for it)` : '';
        throw new HostKeyError(
          `ssh to ${at}: unknown host key ${type} ${fp} — ${name} is not in ${file}${others}`,
          'ssh/unknown-host-key',
          `Check the fingerprint out of band (\`${onHost}\` on the host's console), then re-run with ` +
            `--trust-new-host-keys, or add it with \`ssh-keyscan -p ${this.port} -t ${type} ${this.address} >> ${file}\`.`,
        );
      }
    }
  }

  private async readPrivateKey(): Promise<string | undefined> {
    if (this.privateKeyPath === undefined) return undefined;
    try {
      return await fs.readFile(this.privateKeyPath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UnreachableError(
        `ssh to ${where(this.context)}: cannot read the private key ${this.privateKeyPath} (${code === 'ENOENT' ? 'no such file' : code})`,
        'ssh/auth-failed',
        'Check the private key path in the inventory, and that tsplay runs as the user who owns the key.',
      );
    }
  }

  private async readKnownHosts(): Promise<readonly KnownHostEntry[]> {
    try {
      return await readKnownHosts(this.knownHostsPath);
    } catch (err) {
      throw new UnreachableError(
        `ssh to ${where(this.context)}: cannot read ${this.knownHostsPath} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        'ssh/known-hosts-unreadable',
        'tsplay verifies host keys against this file; check its permissions.',
      );
    }
  }

  // ---- channels ---------------------------------------------------------------------------

  /**
   * Runs one remote command on one channel (the caller holds a channel slot). Rejects with
   * host/connection-lost if the connection drops. With `stop`, aborting it kills the command's
   * process group and resolves with the reason.
   */
  private run(ssh: NodeSSH, remote: string, io: ChannelIo, stop?: StopSpec): Promise<RunOutcome> {
    let channel: Closable | undefined;
    const afterKill = (): void => {
      try {
        channel?.close();
      } catch {
        // already closed
      }
    };
    return this.supervise(ssh, stop, afterKill, (ctl, resolve, reject) => {
      ssh
        .execCommand(remote, {
          noTrim: true,
          stdin: io.stdin === undefined || typeof io.stdin === 'string' ? io.stdin : Readable.from([io.stdin], { objectMode: false }),
          onChannel: (ch: Closable) => {
            channel = ch;
          },
          onStdout: io.onStdout,
          onStderr: io.onStderr,
        })
        .then(
          (res) => {
            if (ctl.stopping) return;
            if (res.code === null && res.signal === null && this.state !== 'ready') {
              ctl.settle(() => reject(this.lostError ?? connectionLost(this.context, 'closed')));
              return;
            }
            const rc = res.code ?? (res.signal ? signalExitCode(res.signal) : 255);
            ctl.settle(() => resolve({ rc }));
          },
          (err: unknown) => {
            if (ctl.stopping) return;
            ctl.settle(() =>
              reject(
                this.state === 'ready'
                  ? new UnreachableError(
                      `ssh to ${where(this.context)}: could not open a channel: ${(err as Error).message}`,
                      'ssh/channel-failed',
                      'sshd may limit sessions per connection (MaxSessions); tsplay keeps at most 8 open.',
                    )
                  : (this.lostError ?? connectionLost(this.context, 'closed')),
              ),
            );
          },
        );
    });
  }

  /** Kills what the exec started (see killGroupScript); returns a note for stderr when that could not be confirmed. */
  private async killGroup(ssh: NodeSSH, pidFile: string, execId: string): Promise<string> {
    const note = (why: string): string =>
      `\n[tsplay] could not confirm that the command's processes on ${this.host} were killed: ${why}; ` +
      `if they still run, their process group id is in ${pidFile} there (kill -- -PGID)\n`;
    if (this.state !== 'ready') return note('the connection is gone');
    const bound = AbortSignal.timeout(KILL_GRACE_MS);
    try {
      const res = await untilAborted(
        this.killChannels.run(() => ssh.execCommand(killGroupScript(pidFile, execId), { noTrim: true }), bound),
        bound,
      );
      return res.code === 0 ? '' : note(`the kill command failed (${res.stderr.trim() || `exit ${res.code}`})`);
    } catch {
      return note(bound.aborted ? `no answer within ${KILL_GRACE_MS / 1000} s` : 'the connection is gone');
    }
  }
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects as soon as `signal` aborts (the underlying work carries on). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
