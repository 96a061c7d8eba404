/**
 * One long-lived POSIX shell per host that runs the wrapped commands of tasks, one at a time, on a
 * single SSH channel. Opening a channel per command costs four packets from the controller
 * (open, exec, EOF, close) and a session on the host; on a CM3+ driving 16 or 32 hosts those
 * writes and sshd's per-session work were most of a run's time. The SSH transport sends a command
 * here when the shell is idle and the command needs no stdin; anything else (stdin, a second
 * command at once on the same host, kills) still gets its own channel.
 *
 * Protocol: the channel runs REMOTE_SHELL_COMMAND, a /bin/sh that reads its script from the
 * channel, and the controller writes remoteShellScript (setup and greeting) and then, for each
 * command, one line of shell: the wrapped command (remote-command.ts wrapCommand, which gives it
 * its own session and process group, its pid file and exec id, so kills work as for a channel
 * exec) assigned as one quoted word, evaluated in a subshell with stdin from /dev/null, then
 * `RS TOKEN RC\n` written on stdout and `RS TOKEN\n` on stderr (RS is the byte 0x1e). TOKEN is
 * random per command, so no output can fake an end; everything before the marker is the
 * command's output, byte for byte, passed on as it arrives.
 *
 * The shell parses what it reads (dash reads its input in blocks), rather than a loop of `read`:
 * dash's `read` takes one byte per system call, ~600 of them for a wrapped command, which was the
 * largest part of what a short check cost the host. Every command runs with stdin from /dev/null,
 * so nothing else reads the shell's input, and a command is one quoted assignment, which cannot be
 * a syntax error: what the command itself gets wrong stays inside its `eval`.
 */
import { randomBytes } from 'node:crypto';
import { SETSID_PROBE } from './remote-command.js';
import { shellQuote } from './transport.js';

/** The part of an ssh2 channel the shell uses. */
export interface ShellChannel {
  write(data: string): boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  stderr: { on(event: 'data', listener: (chunk: Buffer) => void): unknown };
  close(): void;
}

/** What the channel execs: a /bin/sh (whatever the login shell is) that reads its script from stdin. */
export const REMOTE_SHELL_COMMAND = 'exec /bin/sh -s';

/**
 * The start of the shell's script. Its first line of output says whether util-linux `setsid -w`
 * exists and /proc is there, and repeats `pidPrefix`: its commands' pid files are named
 * `<pidPrefix><exec id>.pgid`, created without following links (noclobber's O_EXCL) and removed
 * together when the shell ends (at the end of its input, or killed by HUP or TERM). The prefix
 * holds 96 random bits, so no other user of /tmp can guess a name; files rather than a private
 * directory spare every connection a `mktemp -d`, a fork and an exec on the host.
 */
export function remoteShellScript(pidPrefix: string): string {
  if (!PID_PREFIX.test(pidPrefix)) throw new TypeError(`remote shell: bad pid file prefix ${JSON.stringify(pidPrefix)}`);
  return [
    `f=${pidPrefix}`,
    `trap 'rm -f -- "$f"*.pgid' EXIT; trap 'exit 129' HUP; trap 'exit 143' TERM; trap 'exit 141' PIPE`,
    `if ${SETSID_PROBE}; then s=setsid; else s=nosetsid; fi`,
    `if [ -r /proc/self/stat ]; then p=proc; else p=noproc; fi`,
    `echo "tsplay-shell $s $p $f"`,
    '',
  ].join('\n');
}

const PID_PREFIX = /^\/tmp\/\.tsplay-shell-[0-9a-f]{24}-$/;

/** The line that runs one command in the shell (see the protocol above). */
export function shellCommandLine(script: string, token: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(token)) throw new TypeError(`remote shell: bad token ${JSON.stringify(token)}`);
  return `c=${shellQuote(script)}; (eval "$c") </dev/null; printf '\\036%s %d\\n' ${token} $?; printf '\\036%s\\n' ${token} >&2\n`;
}

const HELLO = /^tsplay-shell (setsid|nosetsid) (proc|noproc) (\S+)\n/;
/** The first byte of an end marker: ASCII RS (record separator). */
const MARK_START = 0x1e;

/** The shell channel ended (closed, killed) while a command ran in it. */
export class ShellGoneError extends Error {
  constructor() {
    super('the remote shell ended before the command did');
  }
}

/** Splits one output stream at the end marker, passing everything before it on unchanged. */
class MarkedStream {
  private pending: Buffer = Buffer.alloc(0);
  private resolved = false;

  constructor(
    private readonly marker: Buffer,
    /** Bytes that follow the marker up to and including `\n` (the exit status on stdout). */
    private readonly onEnd: (trailer: string) => void,
    private readonly onData: (chunk: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.resolved) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const at = this.pending.indexOf(this.marker);
    if (at >= 0) {
      const nl = this.pending.indexOf(0x0a, at + this.marker.length);
      if (at > 0) this.onData(this.pending.subarray(0, at));
      this.pending = this.pending.subarray(at);
      if (nl < 0) return; // the rest of the marker line is on its way
      this.resolved = true;
      this.onEnd(this.pending.subarray(this.marker.length, nl - at).toString('latin1'));
      this.pending = Buffer.alloc(0);
      return;
    }
    // Keep back only what could be the start of the marker (which begins with a byte output
    // practically never ends in, RS), so output reaches the caller as it comes.
    const rs = this.pending.lastIndexOf(MARK_START, -1);
    const tail = rs < 0 ? undefined : this.pending.subarray(rs);
    const keep = tail && tail.length < this.marker.length && this.marker.subarray(0, tail.length).equals(tail) ? tail.length : 0;
    const out = this.pending.length - keep;
    if (out > 0) {
      this.onData(this.pending.subarray(0, out));
      this.pending = this.pending.subarray(out);
    }
  }
}

interface Running {
  stdout: MarkedStream;
  stderr: MarkedStream;
  fail(err: Error): void;
}

export class RemoteShell {
  private running?: Running;
  private gone = false;

  private constructor(
    private readonly channel: ShellChannel,
    /** The host has util-linux `setsid -w`; without it the shell is not used for commands. */
    readonly hasSetsid: boolean,
    /** How its commands' pid files begin (WrapOptions.keepPidFile): the shell removes them when it ends. */
    readonly pidPrefix: string,
    /** The host has /proc (Linux), so argv commands can be run without a wrapper shell (WrapOptions.direct). */
    readonly hasProc: boolean,
  ) {
    channel.on('data', (b) => this.running?.stdout.push(b));
    channel.stderr.on('data', (b) => this.running?.stderr.push(b));
    channel.on('close', () => {
      this.gone = true;
      this.running?.fail(new ShellGoneError());
    });
  }

  /**
   * Starts the shell on `channel` (an exec of REMOTE_SHELL_COMMAND): writes remoteShellScript
   * with a fresh pid file prefix and waits for its greeting. Rejects if the channel closes or says
   * something else first.
   */
  static start(channel: ShellChannel, timeoutMs: number): Promise<RemoteShell> {
    const prefix = `/tmp/.tsplay-shell-${randomBytes(12).toString('hex')}-`;
    return new Promise((resolve, reject) => {
      let seen = '';
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no greeting from the remote shell within ${timeoutMs} ms`))), timeoutMs);
      const onData = (b: Buffer): void => {
        if (done) return;
        seen += b.toString('latin1');
        const m = HELLO.exec(seen);
        if (m && m[3] === prefix) {
          const shell = new RemoteShell(channel, m[1] === 'setsid', prefix, m[2] === 'proc');
          finish(() => resolve(shell));
        } else if (seen.includes('\n') || seen.length > 200) {
          finish(() => reject(new Error(`the remote shell said ${JSON.stringify(seen.slice(0, 200))}`)));
        }
      };
      channel.on('data', onData);
      channel.on('close', () => finish(() => reject(new Error('the remote shell closed at once'))));
      channel.write(remoteShellScript(prefix));
    });
  }

  /** Free for a command: alive and not running one. */
  get idle(): boolean {
    return !this.gone && this.running === undefined;
  }

  get alive(): boolean {
    return !this.gone;
  }

  /**
   * Runs `script` (a complete command line for /bin/sh, such as wrapCommand's) and resolves with
   * its exit status once both streams have ended. Rejects with ShellGoneError if the shell ends
   * first. One command at a time: check `idle` first.
   */
  run(script: string, onStdout: (b: Buffer) => void, onStderr: (b: Buffer) => void): Promise<number> {
    if (!this.idle) return Promise.reject(new Error(this.gone ? 'the remote shell is gone' : 'the remote shell is busy'));
    const token = 'tsplay-end-' + randomBytes(12).toString('hex');
    const line = shellCommandLine(script, token);
    return new Promise<number>((resolve, reject) => {
      let rc: number | undefined;
      let stderrDone = false;
      const maybeDone = (): void => {
        if (rc === undefined || !stderrDone) return;
        this.running = undefined;
        resolve(rc);
      };
      this.running = {
        stdout: new MarkedStream(Buffer.from(`\x1e${token} `), (trailer) => {
          const n = Number.parseInt(trailer, 10);
          rc = Number.isInteger(n) ? n : 255;
          maybeDone();
        }, onStdout),
        stderr: new MarkedStream(Buffer.from(`\x1e${token}`), () => {
          stderrDone = true;
          maybeDone();
        }, onStderr),
        fail: (err) => {
          this.running = undefined;
          reject(err);
        },
      };
      this.channel.write(line);
    });
  }

  /** Ends the shell (its channel); a command running in it is reported gone. */
  close(): void {
    if (this.gone) return;
    this.gone = true;
    try {
      this.channel.close();
    } catch {
      // already closed
    }
    this.running?.fail(new ShellGoneError());
  }
}
