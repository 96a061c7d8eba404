/**
 * The part of the start-up snapshot's warm-up (cli/snapshot-entry.ts) that runs a playbook: V8
 * keeps in the snapshot the bytecode of every function that ran while it was built, and a function
 * that has not run is parsed and compiled on its first call in every run: that lazy compiling
 * was 17.4% of the controller's CPU in a `validate-8` run on 4 hosts, 16.6% with this warm-up
 * (perf; most of the rest is ssh2's, which loads at run time: README, Performance).
 *
 * What runs: a small playbook of the core modules (command and shell, argv and strings, register,
 * when, changed_when, failed_when, ignore_errors, loop, debug, set-fact, assert) through the real
 * Runner, plain reporter and remote-shell framing, against the shipped example inventory, with
 * every host reached through an in-memory stand-in for the SSH connection: nothing leaves the
 * process, no file outside a temporary folder is written, no handle stays open. What the shell
 * stand-in answers is what a host's /bin/sh would (its greeting, then output and end markers).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { EventBus } from '../engine/events.js';
import { prepare } from '../engine/prepare.js';
import type { TransportFactory } from '../engine/run/connections.js';
import { Runner } from '../engine/run/runner.js';
import { OutputCollector } from '../engine/transport/output.js';
import { wrapCommand } from '../engine/transport/remote-command.js';
import { RemoteShell, type ShellChannel } from '../engine/transport/remote-shell.js';
import type { Command, ExecOptions, ExecResult, Transport } from '../engine/transport/transport.js';
import { PlainReporter } from './reporters/plain.js';

const PLAYBOOK = `
- name: snapshot warm-up
  hosts: all
  tasks:
    - name: argv command
      command:
        argv: [uptime, --pretty]
      register: up
      changed_when: false
    - name: a command line
      command: cat /proc/loadavg
    - name: string command
      shell: "cat /proc/loadavg | cut -d' ' -f1"
      register: load
      failed_when: load.rc != 0
      changed_when: false
    - name: a fact
      set-fact:
        seen: "{{ up.stdout }}"
    - name: a loop with a condition
      command: echo {{ item }}
      loop: [a, b]
      when: seen != ''
      ignore_errors: true
    - name: an assertion
      assert:
        that: ["load.rc == 0"]
    - name: a message
      debug:
        msg: "{{ inventory_hostname }}: {{ load.stdout }}"
`;

/**
 * What REMOTE_SHELL_COMMAND's /bin/sh answers to `text` from the controller: the greeting to the
 * script's start, `ok` and exit status 0 to each command (used by the in-memory SSH server of
 * cli/snapshot-ssh-warmup.ts too).
 */
export function answerAsShell(text: string, stdout: (b: Buffer) => void, stderr: (b: Buffer) => void): void {
  const prefix = /^f=(\S+)$/m.exec(text);
  const token = /printf '\\036%s %d\\n' (\S+) \$\?/.exec(text);
  if (prefix) stdout(Buffer.from(`tsplay-shell setsid proc ${prefix[1]}\n`));
  else if (token) {
    stdout(Buffer.from(`ok\n\x1e${token[1]} 0\n`));
    stderr(Buffer.from(`\x1e${token[1]}\n`));
  }
}

/** A ShellChannel whose far end answers as REMOTE_SHELL_COMMAND's /bin/sh does: the greeting, then `ok` and exit status 0 for every command. */
class LoopbackShell implements ShellChannel {
  private readonly data: Array<(b: Buffer) => void> = [];
  private readonly errs: Array<(b: Buffer) => void> = [];
  private readonly closes: Array<() => void> = [];
  stderr = { on: (_e: 'data', l: (b: Buffer) => void) => void this.errs.push(l) };

  on(event: 'data' | 'close', l: ((b: Buffer) => void) | (() => void)): this {
    if (event === 'data') this.data.push(l as (b: Buffer) => void);
    else this.closes.push(l as () => void);
    return this;
  }

  write(text: string): boolean {
    setImmediate(() =>
      answerAsShell(
        text,
        (b) => this.data.forEach((l) => l(b)),
        (b) => this.errs.forEach((l) => l(b)),
      ),
    );
    return true;
  }

  close(): void {
    for (const l of this.closes) l();
  }
}

class LoopbackTransport implements Transport {
  private shell?: Promise<RemoteShell>;
  constructor(readonly host: string) {}
  async connect(): Promise<void> {
    this.shell ??= RemoteShell.start(new LoopbackShell(), 1000);
    await this.shell;
  }
  async exec(command: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    await this.connect();
    const shell = await this.shell!;
    const execId = '0123456789abcdef';
    const script = wrapCommand(command, { env: opts.env, cwd: opts.cwd, pidFile: `${shell.pidPrefix}${execId}.pgid`, execId, setsid: true, keepPidFile: true, direct: shell.hasProc });
    const stdout = new OutputCollector(opts.onStdout);
    const stderr = new OutputCollector(opts.onStderr);
    const rc = await shell.run(script, (b) => stdout.push(b), (b) => stderr.push(b));
    return { rc, stdout: stdout.text(), stderr: stderr.text() };
  }
  async put(): Promise<void> {}
  async get(): Promise<Buffer | null> {
    return null;
  }
  async close(): Promise<void> {
    (await this.shell)?.close();
  }
}

/**
 * Runs the warm-up playbook against `inventory`, every host reached through `transportFactory`
 * (by default an in-memory stand-in for the remote shell); resolves with the run's outcome.
 */
export async function warmRun(inventory: string, transportFactory: TransportFactory = (h) => new LoopbackTransport(h.name)): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-snapshot-warmup-'));
  try {
    const book = path.join(dir, 'warm-up.yml');
    writeFileSync(book, PLAYBOOK);
    const prepared = prepare({ playbooks: [book], inventory, extraVars: {}, check: false });
    if (prepared.errors || !prepared.plan || !prepared.inventory) throw new Error(`warm-up playbook rejected: ${prepared.diagnostics.map((d) => d.message).join('; ')}`);
    const bus = new EventBus();
    const reporter = new PlainReporter({ verbose: 1, out: new Writable({ write: (_c, _e, cb) => cb() }) });
    bus.on((e) => reporter.onEvent(e));
    const runner = new Runner(prepared.plan, prepared.inventory, prepared.doctrine, {
      runId: 'snapshot-warm-up',
      check: false,
      diff: false,
      forks: 8,
      tags: [],
      skipTags: [],
      extraVars: {},
      trustNewHostKeys: false,
      signal: new AbortController().signal,
      transportFactory,
    }, bus);
    const summary = await runner.run();
    await reporter.finish();
    return summary.outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
