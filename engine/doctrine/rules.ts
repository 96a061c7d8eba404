/**
 * PARALLELISM.md as small rule functions: given a parallelism value and the hardware class of the
 * host that would run it, say whether it is allowed, at which level, and if not, which rule it breaks.
 */
import type { DoctrineClass, JobsLevel } from '../doctrine-types.js';

export type JobsVerdict =
  | { ok: true; level: JobsLevel; jobs: number }
  | { ok: false; code: string; message: string; hint: string };

export interface JobsValue {
  jobs: number | null;
  kind: 'number' | 'unbounded' | 'dynamic' | 'malformed';
  raw: string;
}

const PRODUCTION_HINT = (c: DoctrineClass) => `use -j${c.levels.production} (production); cluster parallelism comes from pump + distcc, not local -j`;

export function judgeJobs(v: JobsValue, cls: DoctrineClass, className: string, host: string, experimentalDeclared: boolean): JobsVerdict {
  const on = `on ${className} hardware (host ${host})`;
  if (v.kind === 'unbounded') {
    return { ok: false, code: 'doctrine/unbounded', message: `\`${v.raw}\` is unbounded parallelism, forbidden ${on}`, hint: PRODUCTION_HINT(cls) };
  }
  if (v.kind === 'dynamic') {
    return {
      ok: false,
      code: 'doctrine/not-literal',
      message: `\`${v.raw}\` is computed at run time, so the doctrine cannot be checked before the run; forbidden ${on}`,
      hint: `write the number: ${PRODUCTION_HINT(cls)}`,
    };
  }
  if (v.kind === 'malformed' || v.jobs === null || !Number.isInteger(v.jobs) || v.jobs < 1) {
    return { ok: false, code: 'doctrine/malformed', message: `\`${v.raw}\` is not a plain job count (no leading zeros, at least 1) ${on}`, hint: PRODUCTION_HINT(cls) };
  }
  const n = v.jobs;
  if (n >= cls.forbidden_from) {
    return {
      ok: false,
      code: 'doctrine/forbidden',
      message: `-j${n} is forbidden ${on}: -j${cls.forbidden_from} and above cause OOM kills, runaway load, distcc starvation and include_server collapse`,
      hint: PRODUCTION_HINT(cls),
    };
  }
  if (n === cls.levels.production) return { ok: true, level: 'production', jobs: n };
  if (n === cls.levels.diagnostic) return { ok: true, level: 'diagnostic', jobs: n };
  if (n === cls.levels.experimental) {
    if (experimentalDeclared) return { ok: true, level: 'experimental', jobs: n };
    return {
      ok: false,
      code: 'doctrine/experimental-undeclared',
      message: `-j${n} is experimental ${on} and this task does not declare an experiment`,
      hint: `add to the task or play:\n    experimental:\n      reason: "what you are measuring"\n      fresh_boot: true   # the host rebooted within ${cls.experimental_max_uptime_minutes} min (checked at run time)\n      monitored: true    # you are watching htop\n  or use -j${cls.levels.production}`,
    };
  }
  return {
    ok: false,
    code: 'doctrine/not-in-doctrine',
    message: `-j${n} is not a value of the doctrine ${on}`,
    hint: `allowed: -j${cls.levels.production} (production), -j${cls.levels.diagnostic} (diagnostic), -j${cls.levels.experimental} (experimental, declared)`,
  };
}
