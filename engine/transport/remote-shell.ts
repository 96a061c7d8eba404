/**
 * One long-lived POSIX shell per host that runs the wrapped commands of tasks, one at a time, on a
 * single SSH channel. Opening a channel per command costs four packets from the controller
 * (open, exec, EOF, close) and a session on the host; on a CM3+ driving 16 or 32 hosts those
 * writes and sshd's per-session work were most of a run's time. The SSH transport sends a command
 * here when the shell is idle and the command needs no stdin; anything else (stdin, a second
 * command at once on the same host, kills) still gets its own channel.
 *
 * Protocol, all text: the controller writes `TOKEN N\n` and the N lines of the wrapped command
 * (remote-command.ts wrapCommand, which gives the command its own session and process group, its
 * pid file and exec id, so kills work as for a channel exec). The shell runs it in a subshell with
 * stdin from /dev/null and then writes `RS TOKEN RC\n` on stdout and `RS TOKEN\n` on stderr (RS is
 * the byte 0x1e). TOKEN is random per command, so no output can fake an end; everything before
 * the marker is the command's output, byte for byte, passed on as it arrives.
 */
import { randomBytes } from 'node:crypto';
import { SETSID_PROBE } from './remote-command.js';

/** The part of an ssh2 channel the shell uses. */
export interface ShellChannel {
  write(data: string): boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  stderr: { on(event: 'data', listener: (chunk: Buffer) => void): unknown };
  close(): void;
}

/**
 * Text of the shell. Its first line of output says whether util-linux `setsid -w` exists and /proc
 * is there, and names the private directory (0700) that holds its commands' pid files, removed
 * when the shell ends.
 */
export const REMOTE_SHELL_SCRIPT = [
  `d=$(mktemp -d /tmp/.tsplay-shell-XXXXXX) || exit 1`,
  `trap 'rm -rf "$d"' EXIT; trap 'exit 129' HUP; trap 'exit 143' TERM; trap 'exit 141' PIPE`,
  `if ${SETSID_PROBE}; then s=setsid; else s=nosetsid; fi`,
  `if [ -r /proc/self/stat ]; then p=proc; else p=noproc; fi`,
  `echo "tsplay-shell $s $p $d"`,
  `while IFS= read -r h; do`,
  `  t=\${h%% *}; n=\${h#* }; c=`,
  `  while [ "$n" -gt 0 ] && IFS= read -r l; do c="$c$l`,
  `"; n=$((n-1)); done`,
  `  (eval "$c") </dev/null`,
  `  printf '\\036%s %d\\n' "$t" $?`,
  `  printf '\\036%s\\n' "$t" >&2`,
  `done`,
].join('\n');

const HELLO = /^tsplay-shell (setsid|nosetsid) (proc|noproc) (\/tmp\/\.tsplay-shell-[A-Za-z0-9]+)\n/;
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
    /** Where its commands' pid files go (WrapOptions.keepPidFile): the shell removes it when it ends. */
    readonly pidDir: string,
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
   * Starts the shell on `channel` (an exec of REMOTE_SHELL_SCRIPT) and waits for its greeting.
   * Rejects if the channel closes or says something else first.
   */
  static start(channel: ShellChannel, timeoutMs: number): Promise<RemoteShell> {
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
        if (m) {
          const shell = new RemoteShell(channel, m[1] === 'setsid', m[3]!, m[2] === 'proc');
          finish(() => resolve(shell));
        } else if (seen.includes('\n') || seen.length > 200) {
          finish(() => reject(new Error(`the remote shell said ${JSON.stringify(seen.slice(0, 200))}`)));
        }
      };
      channel.on('data', onData);
      channel.on('close', () => finish(() => reject(new Error('the remote shell closed at once'))));
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
    const lines = script.split('\n');
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
      this.channel.write(`${token} ${lines.length}\n${lines.join('\n')}\n`);
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
