/**
 * `npm run bench`: tsplay against ansible-playbook (at its best settings) and a plain-ssh lower bound,
 * on the namespace lab at 4, 16 and 32 hosts, then `tsplay check` against `--syntax-check`.
 * Prints a markdown table with the verdicts on issue 5's targets, writes bench/results/<stamp>.json
 * (and the run's logs beside it) and bench/RESULTS.md. The lab's worker count is restored at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cases, checkFiles, type BenchCase } from './cases.js';
import {
  benchLabPaths, currentWorkers, hostsFor, labUp, readLabInventory, replicate, workersFor, writeAnsibleInventory, writeTsplayInventory,
  type LabInventory,
} from './lab.js';
import { GNU_TIME, logPath, measure, type Measured } from './measure.js';
import { machineLine, markdown, type CaseRun, type CheckRun, type Machine, type Results, type Sample, type Tool } from './report.js';

const USAGE = `usage: npm run bench -- [--sizes 4,16,32] [--runs 5] [--cases validate-8,...] [--keep-lab] [--no-check]
  --sizes       lab sizes in hosts (cm3 + builder + workers), default 4,16,32
  --runs        timed runs per tool, case and size (median reported), default 5
  --cases       validate-8, post-power-on-validate, pump-preflight (default: all)
  --keep-lab    never resize the lab: sizes other than the current one are skipped
  --simulate-sizes  reach each size by listing the lab's current hosts repeatedly instead of
                resizing the lab (development on a shared lab; the table says so)
  --no-check    skip timing tsplay check against ansible-playbook --syntax-check
  --shipped-dir where the lifecycle playbooks ship (default: <repo>/playbooks)
  --no-results-md  do not rewrite bench/RESULTS.md`;

interface Options {
  sizes: number[];
  runs: number;
  cases?: string[];
  keepLab: boolean;
  simulate: boolean;
  check: boolean;
  shippedDir: string;
  resultsMd: boolean;
}

function parseOptions(repo: string): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '4,16,32' },
      runs: { type: 'string', default: '5' },
      cases: { type: 'string' },
      'keep-lab': { type: 'boolean', default: false },
      'simulate-sizes': { type: 'boolean', default: false },
      'no-check': { type: 'boolean', default: false },
      'shipped-dir': { type: 'string' },
      'no-results-md': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const sizes = values.sizes!.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 3 || n > 66)) usage(`--sizes takes whole numbers from 3 to 66 (cm3, builder and at least one worker), not "${values.sizes}"`);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) usage(`--runs takes a positive whole number, not "${values.runs}"`);
  return {
    sizes,
    runs,
    cases: values.cases?.split(',').map((s) => s.trim()).filter(Boolean),
    keepLab: values['keep-lab']! || values['simulate-sizes']!,
    simulate: values['simulate-sizes']!,
    check: !values['no-check'],
    shippedDir: path.resolve(values['shipped-dir'] ?? path.join(repo, 'playbooks')),
    resultsMd: !values['no-results-md'],
  };
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

const log = (msg: string): void => {
  process.stderr.write(`bench: ${msg}\n`);
};

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.availableParallelism(),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    memMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    ansible: firstLine('ansible-playbook', ['--version']),
    openssh: firstLine('ssh', ['-V']),
    kernel: os.release(),
  };
}

function requireTools(): void {
  const missing = [
    [GNU_TIME, 'time'],
    ['ansible-playbook', 'ansible-core'],
    ['ssh', 'openssh-client'],
  ].filter(([bin]) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  if (missing.length) {
    usage(`missing ${missing.map(([b]) => b).join(', ')}: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`);
  }
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/:/g, '-').replace(/\..*$/, '');
}

/** The three ways of doing a case, as argv to time. */
interface ToolCommand {
  tool: Tool;
  file: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * tsplay is run as an operator runs it, as bin/tsplay (package.json `bin`: node started from the
 * start-up snapshot, with tsplay's V8 flags), not as `node bin/tsplay.js`.
 */
interface Context {
  repo: string;
  labDir: string;
  tsplayBin: string;
  ansibleCfg: string;
  controlPathDir: string;
  logDir: string;
  signal: AbortSignal;
}

function baseEnv(ctx: Context): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSPLAY_LAB_DIR: ctx.labDir, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1' };
  delete env.TSPLAY_INVENTORY;
  delete env.FORCE_COLOR;
  return env;
}

function ansibleEnv(ctx: Context): NodeJS.ProcessEnv {
  return { ...baseEnv(ctx), ANSIBLE_CONFIG: ctx.ansibleCfg, ANSIBLE_SSH_CONTROL_PATH_DIR: ctx.controlPathDir };
}

function commands(ctx: Context, c: BenchCase, inv: LabInventory, ansibleInv: string): ToolCommand[] {
  const size = inv.hosts.length;
  const user = String(inv.vars.user ?? 'root');
  const rel = (f: string) => path.relative(ctx.repo, f) || f;
  return [
    {
      tool: 'tsplay',
      file: rel(c.tsplay),
      argv: [ctx.tsplayBin, 'run', '-i', inv.path, '--forks', String(Math.max(10, size)), c.tsplay],
      env: baseEnv(ctx),
    },
    {
      tool: 'ansible',
      file: rel(c.ansible),
      argv: ['ansible-playbook', '-i', ansibleInv, '--forks', String(size), c.ansible],
      env: ansibleEnv(ctx),
    },
    {
      tool: 'lower',
      file: rel(c.lowerScript),
      argv: [
        '/bin/sh', path.join(ctx.repo, 'bench', 'lower-bound', 'parallel-ssh.sh'),
        String(inv.vars.private_key), String(inv.vars.known_hosts_file), c.lowerScript,
        ...c.targets(inv.hosts).map((h) => `${user}@${h.address}`),
      ],
      env: baseEnv(ctx),
    },
  ];
}

async function timed(ctx: Context, cmd: { argv: string[]; env: NodeJS.ProcessEnv }, base: string, sampleEveryMs = 0): Promise<Measured> {
  if (ctx.signal.aborted) throw new Error('interrupted');
  return measure(cmd.argv, { cwd: ctx.repo, env: cmd.env, logBase: logPath(ctx.logDir, base), sampleEveryMs, timeoutMs: 900_000, signal: ctx.signal });
}

function describeFailure(m: Measured): string {
  const tail = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(-4).join('\n    ');
  return `exit ${m.exitCode}; see ${m.stdoutFile}\n    ${tail(m.stdoutFile)}\n    ${tail(m.stderrFile)}`;
}

/** A sample as the results keep it: every measured figure, without the log file names. */
const strip = ({ stdoutFile: _out, stderrFile: _err, ...sample }: Measured): Sample => sample;

async function runCase(ctx: Context, c: BenchCase, inv: LabInventory, ansibleInv: string, runs: number): Promise<CaseRun[]> {
  const size = inv.hosts.length;
  const cmds = commands(ctx, c, inv, ansibleInv);
  const out = new Map<Tool, CaseRun>(
    cmds.map((k) => [k.tool, { case: c.name, size, targets: c.targets(inv.hosts).length, tool: k.tool, file: k.file, samples: [] }]),
  );
  // One untimed run each: disk caches, Python bytecode, Ansible's ControlPersist masters.
  for (const k of cmds) {
    const m = await timed(ctx, k, `${size}-${c.name}-${k.tool}-warmup`);
    if (m.exitCode !== 0) log(`  warm-up ${k.tool} failed: ${describeFailure(m)}`);
  }
  for (let i = 1; i <= runs; i++) {
    const line: string[] = [];
    for (const k of cmds) {
      const m = await timed(ctx, k, `${size}-${c.name}-${k.tool}-${i}`);
      out.get(k.tool)!.samples.push(strip(m));
      line.push(`${k.tool} ${Math.round(m.wallMs)} ms${m.maxRssKb ? ` ${(m.maxRssKb / 1024).toFixed(1)} MB` : ''}${m.exitCode ? ' FAILED' : ''}`);
      if (m.exitCode !== 0) log(`  ${k.tool} failed: ${describeFailure(m)}`);
    }
    log(`  [${size} hosts] ${c.name} ${i}/${runs}: ${line.join(', ')}`);
  }
  // Ansible's memory is spread over a worker process per host and an ssh per worker: one sampled run.
  const ans = cmds.find((k) => k.tool === 'ansible')!;
  const m = await timed(ctx, ans, `${size}-${c.name}-ansible-memory`, 25);
  out.get('ansible')!.memory = strip(m);
  return [...out.values()];
}

async function runCheck(ctx: Context, inventory: string, ansibleInv: string, files: { tsplay: string[]; ansible: string[] }, runs: number): Promise<CheckRun[]> {
  const ts = { argv: [ctx.tsplayBin, 'check', '-i', inventory, ...files.tsplay], env: baseEnv(ctx) };
  const an = { argv: ['ansible-playbook', '--syntax-check', '-i', ansibleInv, ...files.ansible], env: ansibleEnv(ctx) };
  const rel = (f: string) => path.relative(ctx.repo, f);
  const out: CheckRun[] = [
    { tool: 'tsplay', files: files.tsplay.map(rel), samples: [] },
    { tool: 'ansible', files: files.ansible.map(rel), samples: [] },
  ];
  await timed(ctx, ts, 'check-tsplay-warmup');
  await timed(ctx, an, 'check-ansible-warmup');
  for (let i = 1; i <= runs; i++) {
    const a = await timed(ctx, ts, `check-tsplay-${i}`);
    const b = await timed(ctx, an, `check-ansible-${i}`);
    out[0]!.samples.push(strip(a));
    out[1]!.samples.push(strip(b));
    for (const [tool, m] of [['tsplay check', a], ['syntax-check', b]] as const) if (m.exitCode !== 0) log(`  ${tool} failed: ${describeFailure(m)}`);
    log(`  check ${i}/${runs}: tsplay check ${Math.round(a.wallMs)} ms, ansible-playbook --syntax-check ${Math.round(b.wallMs)} ms`);
  }
  return out;
}

/** Stops the ControlPersist masters Ansible left in our control-path dir. */
function stopControlMasters(dir: string): void {
  if (!existsSync(dir)) return;
  for (const sock of readdirSync(dir)) {
    spawnSync('ssh', ['-o', `ControlPath=${path.join(dir, sock)}`, '-O', 'exit', 'bench-control-master'], { stdio: 'ignore', timeout: 5000 });
  }
  rmSync(dir, { recursive: true, force: true });
}

function writeResultsMd(repo: string, results: Results, table: string): void {
  const text = [
    '# Benchmark results',
    '',
    `Latest run of \`npm run bench\` (${results.date}${results.commit ? `, commit ${results.commit}` : ''}): sizes ${results.sizes.join(', ')} hosts, median of ${results.runs} runs each.`,
    `See the Performance section of [README.md](../README.md#performance) for what each case does and how to read the table.`,
    '',
    `Machine: ${machineLine(results.machine)}.`,
    '',
    table.trimEnd(),
    '',
    ...(results.notes.length ? ['Notes:', '', ...results.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  writeFileSync(path.join(repo, 'bench', 'RESULTS.md'), text);
}

export async function main(): Promise<void> {
  const paths = benchLabPaths();
  const repo = paths.repoRoot;
  const opts = parseOptions(repo);
  requireTools();
  const allCases = cases(repo, opts.shippedDir);
  const selected = opts.cases ? allCases.filter((c) => opts.cases!.includes(c.name)) : allCases;
  const unknown = (opts.cases ?? []).filter((n) => !allCases.some((c) => c.name === n));
  if (unknown.length) usage(`unknown case ${unknown.join(', ')}; the cases are ${allCases.map((c) => c.name).join(', ')}`);

  const started = new Date();
  const resultsDir = path.join(repo, 'bench', 'results');
  const logDir = path.join(resultsDir, stamp(started));
  mkdirSync(logDir, { recursive: true });
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping after the current command, then restoring the lab`);
    abort.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: Context = {
    repo,
    labDir: paths.dir,
    tsplayBin: paths.tsplayBin,
    ansibleCfg: path.join(repo, 'bench', 'ansible', 'ansible.cfg'),
    controlPathDir: mkdtempSync(path.join(os.tmpdir(), 'tsplay-bench-cp-')),
    logDir,
    signal: abort.signal,
  };
  const describe = spawnSync('git', ['-C', repo, 'describe', '--always', '--dirty'], { encoding: 'utf8' });
  const commit = describe.status === 0 ? describe.stdout.trim() : undefined;
  const results: Results = { date: started.toISOString(), commit, machine: machine(), runs: opts.runs, sizes: [], cases: [], check: [], notes: [] };
  if (opts.simulate) {
    results.notes.push(`simulated sizes: each size lists the lab's ${hostsFor(currentWorkers(paths) ?? 0)} hosts repeatedly (one connection per inventory host), so remote work lands on fewer hosts than a real lab of that size`);
  }
  log(`machine: ${machineLine(results.machine)}`);
  for (const c of selected) {
    if (c.name !== 'validate-8') {
      results.notes.push(
        c.shipped
          ? `${c.name}: tsplay runs the shipped ${path.relative(repo, c.tsplay)}; Ansible runs ${path.relative(repo, c.ansible)}, its translation task for task (same remote commands); the lower bound runs them in one shell per host`
          : `${c.name}: playbooks/ does not ship it, so the bench's stand-in ${path.relative(repo, c.tsplay)} is timed; bench/ansible/ translates the shipped stage, so Ansible does other work`,
      );
    }
  }

  const before = currentWorkers(paths);
  let workers = before;
  try {
    if (workers === undefined) {
      if (opts.keepLab) usage('there is no lab (run `tsplay lab up`), and --keep-lab forbids bringing one up');
      labUp(paths, workersFor(opts.sizes[0]!), log);
      workers = workersFor(opts.sizes[0]!);
    }
    if (opts.check) {
      const files = checkFiles(repo, opts.shippedDir);
      const inv = readLabInventory(paths);
      const ini = path.join(logDir, `inventory-${inv.hosts.length}.ini`);
      writeAnsibleInventory(inv, ini);
      log(`check: tsplay check on ${files.tsplay.length} ${files.shipped ? 'shipped lifecycle' : 'bench'} playbooks, ansible-playbook --syntax-check on ${files.ansible.length}`);
      results.check = await runCheck(ctx, inv.path, ini, files, opts.runs);
    }
    for (const size of opts.sizes) {
      if (opts.simulate) {
        const inv = writeTsplayInventory(replicate(readLabInventory(paths), size), path.join(logDir, `inventory-${size}.yml`));
        const ini = path.join(logDir, `inventory-${size}.ini`);
        writeAnsibleInventory(inv, ini);
        results.sizes.push(size);
        for (const c of selected) {
          log(`${size} simulated hosts: ${c.name} (${c.targets(inv.hosts).length} targeted) × ${opts.runs}, alternating tsplay, ansible, lower bound`);
          results.cases.push(...(await runCase(ctx, c, inv, ini, opts.runs)));
        }
        continue;
      }
      if (hostsFor(workers!) !== size) {
        if (opts.keepLab) {
          results.notes.push(`${size} hosts skipped: --keep-lab and the lab has ${hostsFor(workers!)}`);
          log(`${size} hosts: skipped (--keep-lab, the lab has ${hostsFor(workers!)})`);
          continue;
        }
        labUp(paths, workersFor(size), log);
        workers = workersFor(size);
      }
      const inv = readLabInventory(paths);
      if (inv.hosts.length !== size) throw new Error(`the lab inventory lists ${inv.hosts.length} hosts, expected ${size}`);
      const ini = path.join(logDir, `inventory-${size}.ini`);
      writeAnsibleInventory(inv, ini);
      results.sizes.push(size);
      for (const c of selected) {
        log(`${size} hosts: ${c.name} (${c.targets(inv.hosts).length} targeted) × ${opts.runs}, alternating tsplay, ansible, lower bound`);
        results.cases.push(...(await runCase(ctx, c, inv, ini, opts.runs)));
      }
    }
  } finally {
    stopControlMasters(ctx.controlPathDir);
    if (before !== undefined && workers !== before) {
      try {
        labUp(paths, before, log);
      } catch (err) {
        log(`could not restore the lab to ${before} workers: ${(err as Error).message}`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const table = markdown(results);
  const json = path.join(resultsDir, `${stamp(started)}.json`);
  writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
  if (opts.resultsMd) writeResultsMd(repo, results, table);
  process.stdout.write(`\nMachine: ${machineLine(results.machine)}\n\n${table}`);
  if (results.notes.length) process.stdout.write(`\n${results.notes.map((n) => `note: ${n}`).join('\n')}\n`);
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), json)}; logs: ${path.relative(process.cwd(), logDir)}/\n`);
  // A run where some command failed still reports, but says so in its exit status.
  const failed = results.cases.some((c) => c.samples.some((s) => s.exitCode !== 0)) || results.check.some((c) => c.samples.some((s) => s.exitCode !== 0));
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
});
