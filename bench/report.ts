/**
 * The benchmark's arithmetic and its table: medians, ratios, cost per added host and the verdicts on
 * issue 5's targets. Pure functions over the recorded samples, so the numbers in RESULTS.md can be
 * recomputed from a results JSON and the rules are tested without timing anything.
 */

export type Tool = 'tsplay' | 'ansible' | 'lower';
export const TOOLS: readonly Tool[] = ['tsplay', 'ansible', 'lower'];

export interface Sample {
  wallMs: number;
  exitCode: number;
  /** User + system CPU of the command and the children it waited for (GNU time), ms. */
  cpuMs?: number;
  /** Peak RSS of the largest single process of the run (GNU time's %M), KiB. For tsplay: tsplay itself. */
  maxRssKb?: number;
  /** Peak of the summed RSS of the whole process tree (sampled from /proc), KiB. */
  treeRssKb?: number;
  /** Peak RSS of the main process (VmHWM, sampled from /proc), KiB. */
  mainRssKb?: number;
  /**
   * CPU the whole machine spent while the command ran (every core's non-idle time from /proc/stat,
   * 10 ms ticks), ms. The lab's hosts are namespaces of this machine, so this is the controller's
   * work plus the hosts' (sshd, shells, the checks) plus whatever else ran meanwhile.
   */
  machineCpuMs?: number;
}

export interface CaseRun {
  /** e.g. `validate-8`, `post-power-on-validate`. */
  case: string;
  /** Hosts in the lab (cm3, builder, workers). */
  size: number;
  /** Hosts the case actually works on at this size. */
  targets: number;
  tool: Tool;
  /** The playbook / script used, relative to the repository. */
  file: string;
  samples: Sample[];
  /** A sampled run (not timed) for the process-tree memory figures. */
  memory?: Sample;
}

export interface CheckRun {
  tool: 'tsplay' | 'ansible';
  files: string[];
  samples: Sample[];
}

export interface Machine {
  nproc: number;
  cpu: string;
  memMb: number;
  node: string;
  ansible: string;
  openssh: string;
  kernel: string;
}

export interface Results {
  date: string;
  /** The commit measured (`git describe --always --dirty`), when the repository is a git checkout. */
  commit?: string;
  machine: Machine;
  runs: number;
  sizes: number[];
  cases: CaseRun[];
  check: CheckRun[];
  notes: string[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function medianWall(samples: readonly Sample[]): number {
  return median(samples.map((s) => s.wallMs));
}

/** Largest value of `key` over the samples (and the memory run), or undefined when none has it. */
export function peak(samples: readonly Sample[], key: 'maxRssKb' | 'treeRssKb' | 'mainRssKb'): number | undefined {
  const v = samples.map((s) => s[key]).filter((x): x is number => typeof x === 'number');
  return v.length ? Math.max(...v) : undefined;
}

/**
 * Cost per added host between consecutive sizes: (median at b - median at a) / (b - a), in ms per host.
 * Keyed by the larger size.
 */
export function slopes(points: ReadonlyArray<{ size: number; ms: number }>): Map<number, number> {
  const sorted = [...points].sort((a, b) => a.size - b.size);
  const out = new Map<number, number>();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.size > a.size) out.set(b.size, (b.ms - a.ms) / (b.size - a.size));
  }
  return out;
}

export interface Row {
  case: string;
  size: number;
  targets: number;
  ms: Partial<Record<Tool, number>>;
  /** tsplay / ansible, tsplay / lower bound. */
  vsAnsible?: number;
  vsLower?: number;
  /** ms per added host, from the previous size to this one. */
  slope: Partial<Record<Tool, number>>;
  tsplayRssKb?: number;
  /** Median machine CPU per run (see Sample.machineCpuMs), per tool. */
  machineCpu: Partial<Record<Tool, number>>;
  ansibleMainRssKb?: number;
  ansibleTreeRssKb?: number;
  /** Runs that exited non-zero, per tool (their times are still in the median). */
  failures: Partial<Record<Tool, number>>;
}

export function rows(results: Pick<Results, 'cases'>): Row[] {
  const caseNames = [...new Set(results.cases.map((c) => c.case))];
  const out: Row[] = [];
  for (const name of caseNames) {
    const runs = results.cases.filter((c) => c.case === name);
    const sizes = [...new Set(runs.map((c) => c.size))].sort((a, b) => a - b);
    const slopeBy = new Map<Tool, Map<number, number>>();
    for (const tool of TOOLS) {
      const pts = runs.filter((c) => c.tool === tool && c.samples.length).map((c) => ({ size: c.size, ms: medianWall(c.samples) }));
      slopeBy.set(tool, slopes(pts));
    }
    for (const size of sizes) {
      const at = (tool: Tool) => runs.find((c) => c.size === size && c.tool === tool);
      const ms: Partial<Record<Tool, number>> = {};
      const slope: Partial<Record<Tool, number>> = {};
      const failures: Partial<Record<Tool, number>> = {};
      const machineCpu: Partial<Record<Tool, number>> = {};
      for (const tool of TOOLS) {
        const r = at(tool);
        if (!r || r.samples.length === 0) continue;
        ms[tool] = medianWall(r.samples);
        const cpu = r.samples.map((x) => x.machineCpuMs).filter((x): x is number => x !== undefined);
        if (cpu.length) machineCpu[tool] = median(cpu);
        const s = slopeBy.get(tool)!.get(size);
        if (s !== undefined) slope[tool] = s;
        const failed = r.samples.filter((x) => x.exitCode !== 0).length;
        if (failed) failures[tool] = failed;
      }
      const t = at('tsplay');
      const a = at('ansible');
      out.push({
        case: name,
        size,
        targets: t?.targets ?? a?.targets ?? at('lower')?.targets ?? size,
        ms,
        vsAnsible: ms.tsplay !== undefined && ms.ansible ? ms.tsplay / ms.ansible : undefined,
        vsLower: ms.tsplay !== undefined && ms.lower ? ms.tsplay / ms.lower : undefined,
        slope,
        tsplayRssKb: t ? peak(t.samples, 'maxRssKb') : undefined,
        machineCpu,
        ansibleMainRssKb: a ? peak([...a.samples, ...(a.memory ? [a.memory] : [])], 'mainRssKb') : undefined,
        ansibleTreeRssKb: a ? peak([...a.samples, ...(a.memory ? [a.memory] : [])], 'treeRssKb') : undefined,
        failures,
      });
    }
  }
  return out;
}

export type Verdict = 'PASS' | 'FAIL' | 'n/a';

export interface TargetResult {
  target: string;
  verdict: Verdict;
  detail: string;
}

/** The validation case the speed targets are about. */
export const TARGET_CASE = 'validate-8';
export const SPEEDUP_MIN = 10;
export const LOWER_RATIO_MAX = 1.25;
export const RSS_MAX_KB = 80 * 1024;
export const CHECK_MAX_MS = 300;

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

/** Issue 5's targets, each judged on ratios from this one run of the suite. */
export function targets(results: Pick<Results, 'cases' | 'check'>): TargetResult[] {
  const all = rows(results);
  const main = all.filter((r) => r.case === TARGET_CASE);
  const out: TargetResult[] = [];
  for (const size of [4, 16]) {
    const r = main.find((x) => x.size === size);
    out.push(
      r?.vsAnsible === undefined
        ? { target: `${TARGET_CASE} on ${size} hosts: tsplay ≥ ${SPEEDUP_MIN}× faster than ansible-playbook`, verdict: 'n/a', detail: `${size} hosts not measured` }
        : {
            target: `${TARGET_CASE} on ${size} hosts: tsplay ≥ ${SPEEDUP_MIN}× faster than ansible-playbook`,
            verdict: r.ms.ansible! / r.ms.tsplay! >= SPEEDUP_MIN ? 'PASS' : 'FAIL',
            detail: `${f1(r.ms.ansible! / r.ms.tsplay!)}× (${Math.round(r.ms.tsplay!)} ms vs ${Math.round(r.ms.ansible!)} ms)`,
          },
    );
    out.push(
      r?.vsLower === undefined
        ? { target: `${TARGET_CASE} on ${size} hosts: tsplay ≤ ${LOWER_RATIO_MAX}× the plain-ssh lower bound`, verdict: 'n/a', detail: `${size} hosts not measured` }
        : {
            target: `${TARGET_CASE} on ${size} hosts: tsplay ≤ ${LOWER_RATIO_MAX}× the plain-ssh lower bound`,
            verdict: r.vsLower <= LOWER_RATIO_MAX ? 'PASS' : 'FAIL',
            detail: `${f2(r.vsLower)}× (${Math.round(r.ms.tsplay!)} ms vs ${Math.round(r.ms.lower!)} ms)`,
          },
    );
  }
  const largest = main.length ? main.reduce((a, b) => (b.size > a.size ? b : a)) : undefined;
  const slopeTarget = `${TARGET_CASE}: cost per added host at 32 hosts ≤ the lower bound's`;
  const r32 = main.find((x) => x.size === 32);
  if (!r32 || r32.slope.tsplay === undefined || r32.slope.lower === undefined) {
    out.push({ target: slopeTarget, verdict: 'n/a', detail: '32 hosts and a smaller size not both measured' });
  } else {
    out.push({
      target: slopeTarget,
      verdict: r32.slope.tsplay <= r32.slope.lower ? 'PASS' : 'FAIL',
      detail: `tsplay ${f1(r32.slope.tsplay)} ms/host vs lower bound ${f1(r32.slope.lower)} ms/host`,
    });
  }
  const rssTarget = `controller peak RSS at 32 hosts ≤ ${RSS_MAX_KB / 1024} MB`;
  const at32 = all.filter((r) => r.size === 32 && r.tsplayRssKb !== undefined);
  if (at32.length === 0) {
    out.push({ target: rssTarget, verdict: 'n/a', detail: `32 hosts not measured${largest ? ` (largest: ${largest.size})` : ''}` });
  } else {
    const worst = at32.reduce((a, b) => (b.tsplayRssKb! > a.tsplayRssKb! ? b : a));
    out.push({
      target: rssTarget,
      verdict: worst.tsplayRssKb! <= RSS_MAX_KB ? 'PASS' : 'FAIL',
      detail: `${f1(worst.tsplayRssKb! / 1024)} MB (${worst.case}, largest of ${at32.length} case${at32.length === 1 ? '' : 's'})`,
    });
  }
  const ts = results.check.find((c) => c.tool === 'tsplay');
  const an = results.check.find((c) => c.tool === 'ansible');
  const checkTarget = `tsplay check of the playbooks ≤ ${CHECK_MAX_MS / 1000} s and faster than ansible-playbook --syntax-check`;
  if (!ts?.samples.length) {
    out.push({ target: checkTarget, verdict: 'n/a', detail: 'not measured' });
  } else {
    const tm = medianWall(ts.samples);
    const am = an?.samples.length ? medianWall(an.samples) : undefined;
    const ok = tm <= CHECK_MAX_MS && (am === undefined || tm < am);
    out.push({
      target: checkTarget,
      verdict: am === undefined && ok ? 'n/a' : ok ? 'PASS' : 'FAIL',
      detail: `${Math.round(tm)} ms${am !== undefined ? ` vs ${Math.round(am)} ms (${f1(am / tm)}× faster)` : ' (no ansible figure)'}, ${ts.files.length} playbooks`,
    });
  }
  return out;
}

const ms = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x)}`);
const mb = (kb: number | undefined) => (kb === undefined ? '–' : f1(kb / 1024));
const ratio = (x: number | undefined) => (x === undefined ? '–' : `${f2(x)}`);
const slope = (x: number | undefined) => (x === undefined ? '–' : f1(x));

/** "16", or "16 (14 targeted)" when the case works on fewer hosts than the lab has. */
const hostsLabel = (r: Row) => (r.targets === r.size ? `${r.size}` : `${r.size} (${r.targets} targeted)`);

export function markdown(results: Results): string {
  const lines: string[] = [];
  const all = rows(results);
  lines.push(
    '| case | hosts | tsplay ms | ansible ms | lower bound ms | tsplay/ansible | tsplay/lower | tsplay ms/added host | lower ms/added host | tsplay peak RSS MB | ansible RSS MB (main / tree) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of all) {
    const fails = Object.entries(r.failures).map(([t, n]) => `${t} ${n} failed`).join(', ');
    lines.push(
      `| ${r.case}${fails ? ` ⚠ ${fails}` : ''} | ${hostsLabel(r)} | ${ms(r.ms.tsplay)} | ${ms(r.ms.ansible)} | ${ms(r.ms.lower)} | ${ratio(r.vsAnsible)} | ${ratio(r.vsLower)} | ${slope(r.slope.tsplay)} | ${slope(r.slope.lower)} | ${mb(r.tsplayRssKb)} | ${mb(r.ansibleMainRssKb)} / ${mb(r.ansibleTreeRssKb)} |`,
    );
  }
  const withCpu = all.filter((r) => Object.keys(r.machineCpu).length > 0);
  if (withCpu.length) {
    lines.push(
      '',
      '| machine CPU per run (controller + hosts), median | hosts | tsplay ms | ansible ms | lower bound ms | tsplay/lower |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const r of withCpu) {
      const c = r.machineCpu;
      lines.push(`| ${r.case} | ${hostsLabel(r)} | ${ms(c.tsplay)} | ${ms(c.ansible)} | ${ms(c.lower)} | ${ratio(c.tsplay !== undefined && c.lower ? c.tsplay / c.lower : undefined)} |`);
    }
  }
  const ts = results.check.find((c) => c.tool === 'tsplay');
  const an = results.check.find((c) => c.tool === 'ansible');
  if (ts || an) {
    lines.push('', '| check (no host contacted) | playbooks | median ms | peak RSS MB |', '|---|---:|---:|---:|');
    if (ts) lines.push(`| tsplay check | ${ts.files.length} | ${ms(medianWall(ts.samples))} | ${mb(peak(ts.samples, 'maxRssKb'))} |`);
    if (an) lines.push(`| ansible-playbook --syntax-check | ${an.files.length} | ${ms(medianWall(an.samples))} | ${mb(peak(an.samples, 'maxRssKb'))} |`);
  }
  lines.push('', '| target (issue 5) | verdict | measured |', '|---|---|---|');
  for (const t of targets(results)) lines.push(`| ${t.target} | ${t.verdict} | ${t.detail} |`);
  return lines.join('\n') + '\n';
}

export function machineLine(m: Machine): string {
  return `${m.nproc} CPUs (${m.cpu}), ${Math.round(m.memMb / 1024)} GB RAM, Linux ${m.kernel}, Node ${m.node}, ${m.ansible}, ${m.openssh}`;
}
