/**
 * thermal: reads the host's temperature (every /sys/class/thermal/thermal_zone*, and
 * `vcgencmd measure_temp` on a Raspberry Pi) and gates on it: assert, wait to cool, or throttle.
 * The reading becomes the host fact `tsplay_thermal`, which make-jobserver reads: when
 * `tsplay_thermal.throttled` is true it drops to the doctrine's diagnostic -j value.
 * Threshold: the doctrine's thermal_threshold_c (85 °C, fester's "throttle scheduler above 85°C").
 */
import type { ModuleDef, TaskContext, TaskResult } from '../engine/module-types.js';
import { allowTemplates, checkRendered } from './lib/templated-args.js';

export type ThermalMode = 'read' | 'assert' | 'wait' | 'throttle';

export interface ThermalArgs {
  mode?: ThermalMode;
  threshold_c?: number;
  timeout?: number;
  interval?: number;
}

export interface ZoneReading {
  zone: string;
  celsius: number;
  /** The zone's `type` (e.g. x86_pkg_temp, cpu-thermal), when the kernel gives one. */
  type?: string;
}

export interface Reading {
  /** The hottest sensor, or null when the host has none. */
  celsius: number | null;
  zones: ZoneReading[];
  /** Where the hottest reading came from; `none` without a sensor. */
  source: string;
}

/** The host fact, `tsplay_thermal`. */
export interface ThermalFact extends Reading {
  threshold_c: number;
  /** Set only by `mode: throttle`, when the reading is at or above the threshold. */
  throttled: boolean;
  sensor: boolean;
  /** The reading is above the threshold (what assert and wait refuse). */
  above_threshold: boolean;
  mode: ThermalMode;
}

export const FACT = 'tsplay_thermal';
/** The seed's threshold, for a host class whose doctrine entry lacks one. */
const FALLBACK_THRESHOLD_C = 85;

/** One line per sensor: `zone NAME MILLIDEGREES TYPE`, then `vcgencmd OUTPUT` where vcgencmd exists. */
const READ_SCRIPT = [
  'for f in /sys/class/thermal/thermal_zone*/temp; do',
  '  [ -r "$f" ] || continue',
  '  d=${f%/temp}',
  // Some zones refuse reads (EIO/ENODATA on disabled sensors): skip them.
  '  t=$(cat "$f" 2>/dev/null) || continue',
  '  ty=$(cat "$d/type" 2>/dev/null)',
  '  printf "zone %s %s %s\\n" "${d##*/}" "$t" "$ty"',
  'done',
  'if command -v vcgencmd >/dev/null 2>&1; then printf "vcgencmd %s\\n" "$(vcgencmd measure_temp 2>&1)"; fi',
  'true',
].join('\n');

/** Parses READ_SCRIPT's output. Pure. */
export function parseReading(text: string): Reading {
  const zones: ZoneReading[] = [];
  let best: { celsius: number; source: string } | undefined;
  const consider = (celsius: number, source: string) => {
    if (!best || celsius > best.celsius) best = { celsius, source };
  };
  for (const line of text.split('\n')) {
    const zone = line.match(/^zone (\S+) (-?\d+)(?: (.*))?$/);
    if (zone) {
      const celsius = Number(zone[2]) / 1000;
      const type = zone[3]?.trim();
      zones.push(type ? { zone: zone[1]!, celsius, type } : { zone: zone[1]!, celsius });
      consider(celsius, `/sys/class/thermal/${zone[1]}`);
      continue;
    }
    // `temp=47.2'C`; a vcgencmd that cannot reach the firmware prints an error instead: ignored.
    const vc = line.match(/^vcgencmd temp=(-?\d+(?:\.\d+)?)/);
    if (vc) {
      const celsius = Number(vc[1]);
      zones.push({ zone: 'vcgencmd', celsius });
      consider(celsius, 'vcgencmd measure_temp');
    }
  }
  return { celsius: best?.celsius ?? null, zones, source: best?.source ?? 'none' };
}

async function read(ctx: TaskContext): Promise<Reading | { error: string; rc: number }> {
  const r = await ctx.transport.exec(READ_SCRIPT, { env: ctx.environment, signal: ctx.signal, timeoutMs: 30000 });
  if (r.rc !== 0) return { error: `reading the thermal sensors of ${ctx.host.name} failed (rc ${r.rc}): ${r.stderr.trim() || 'no message'}`, rc: r.rc };
  return parseReading(r.stdout);
}

function fmt(c: number): string {
  return `${c.toFixed(1)}°C`;
}

function fact(reading: Reading, threshold: number, mode: ThermalMode, throttled: boolean): ThermalFact {
  const sensor = reading.celsius !== null;
  return { ...reading, threshold_c: threshold, throttled, sensor, above_threshold: sensor && reading.celsius! > threshold, mode };
}

function result(f: ThermalFact, r: Omit<TaskResult, 'changed'>): TaskResult {
  return { changed: false, ...r, facts: { [FACT]: f }, data: { ...f } };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The arguments after rendering; at parse time each may also be a template (allowTemplates). */
const STRICT = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { enum: ['read', 'assert', 'wait', 'throttle'], default: 'read', description: '`read`: only record; `assert`: fail above the threshold; `wait`: poll until at or below it, fail at `timeout`; `throttle`: never fails for heat, sets `throttled` at or above it.' },
    threshold_c: { type: 'number', minimum: -40, maximum: 150, description: 'Degrees Celsius. Default: the doctrine’s `thermal_threshold_c` for the host’s hardware class (85).' },
    timeout: { type: 'number', exclusiveMinimum: 0, default: 300, description: '`wait`: give up after this many seconds.' },
    interval: { type: 'number', exclusiveMinimum: 0, default: 5, description: '`wait`: seconds between readings.' },
  },
};

export const thermal: ModuleDef<ThermalArgs> = {
  name: 'thermal',
  description:
    'Read the host’s temperature (/sys/class/thermal zones, vcgencmd) into the fact `tsplay_thermal`, and gate on it: `assert` fails above the threshold, `wait` waits until the host has cooled, `throttle` makes later make-jobserver tasks use the diagnostic -j. A host without a sensor is a clear ok result.',
  providesFacts: [FACT],
  schema: allowTemplates(STRICT),
  examples: [
    '```yaml',
    '- name: Do not build on a hot builder',
    '  thermal:',
    '    mode: throttle',
    '',
    '- name: Wait (at most 10 min) for the worker to cool below 80 °C',
    '  thermal:',
    '    mode: wait',
    '    threshold_c: 80',
    '    timeout: 600',
    '```',
  ].join('\n'),
  async run(ctx, rendered) {
    const checked = checkRendered<ThermalArgs>(STRICT, rendered as unknown as Record<string, unknown>);
    if (!checked.ok) return { changed: false, failed: true, msg: checked.msg };
    const args = checked.args;
    const mode = args.mode ?? 'read';
    const threshold = args.threshold_c ?? ctx.doctrine?.thermal_threshold_c ?? FALLBACK_THRESHOLD_C;
    const name = ctx.host.name;
    const first = await read(ctx);
    if ('error' in first) return { changed: false, failed: true, rc: first.rc, msg: first.error };

    if (first.celsius === null) {
      const f = fact(first, threshold, mode, false);
      if (mode === 'assert' || mode === 'wait') {
        const note = `thermal: the ${mode} gate (≤ ${threshold}°C) could not be applied: no thermal sensor on ${name}`;
        ctx.decision(note, { mode, threshold_c: threshold, sensor: false });
        return result(f, { msg: `no thermal sensor on ${name}: the ${mode} gate (≤ ${threshold}°C) could not be applied` });
      }
      if (mode === 'throttle') ctx.decision(`thermal: no thermal sensor on ${name}: not throttled (nothing to read)`, { mode, threshold_c: threshold, sensor: false });
      return result(f, { msg: `no thermal sensor on ${name}` });
    }

    const where = (r: Reading) => `${name} at ${fmt(r.celsius!)}${r.zones.length > 1 ? ` (hottest: ${r.source})` : ''}`;
    switch (mode) {
      case 'read':
        return result(fact(first, threshold, mode, false), { msg: `${where(first)}, threshold ${threshold}°C` });

      case 'assert': {
        const f = fact(first, threshold, mode, false);
        if (f.above_threshold) return result(f, { failed: true, msg: `${where(first)}, above the ${threshold}°C threshold` });
        return result(f, { msg: `${where(first)} ≤ ${threshold}°C` });
      }

      case 'throttle': {
        const hot = first.celsius >= threshold;
        const f = fact(first, threshold, mode, hot);
        const diag = ctx.doctrine?.levels.diagnostic;
        const message = hot
          ? `thermal: ${where(first)} ≥ ${threshold}°C: throttled, make-jobserver will use the diagnostic ${diag !== undefined ? `-j${diag}` : 'job count'}`
          : `thermal: ${where(first)} < ${threshold}°C: not throttled`;
        ctx.decision(message, { celsius: first.celsius, threshold_c: threshold, throttled: hot, diagnostic_jobs: diag ?? null });
        return result(f, { msg: message.replace(/^thermal: /, '') });
      }

      case 'wait': {
        const timeoutMs = (args.timeout ?? 300) * 1000;
        const intervalMs = (args.interval ?? 5) * 1000;
        const t0 = Date.now();
        const deadline = t0 + timeoutMs;
        let now = first;
        if (now.celsius! > threshold) ctx.decision(`thermal: ${where(now)} > ${threshold}°C: waiting up to ${timeoutMs / 1000}s for it to cool`, { celsius: now.celsius, threshold_c: threshold });
        while (now.celsius !== null && now.celsius > threshold) {
          const waited = Math.round((Date.now() - t0) / 1000);
          if (ctx.signal.aborted) return result(fact(now, threshold, mode, false), { failed: true, msg: `interrupted while waiting for ${name} to cool (${fmt(now.celsius)})` });
          const remaining = deadline - Date.now();
          if (remaining <= 0) {
            return result(fact(now, threshold, mode, false), { failed: true, msg: `${where(now)} after waiting ${waited}s: still above the ${threshold}°C threshold (timeout ${timeoutMs / 1000}s)` });
          }
          // The last sleep is cut short so the final reading is taken at the deadline, not after it.
          const pause = Math.min(intervalMs, remaining);
          ctx.output('stdout', `${where(now)} > ${threshold}°C; next reading in ${(pause / 1000).toFixed(1)}s (${waited}s of ${timeoutMs / 1000}s)\n`);
          await sleep(pause, ctx.signal);
          if (ctx.signal.aborted) continue;
          const next = await read(ctx);
          if ('error' in next) return { changed: false, failed: true, rc: next.rc, msg: next.error };
          now = next;
        }
        if (now.celsius === null) {
          // The sensor vanished while we waited (a zone unbound): say so rather than pass silently.
          return result(fact(now, threshold, mode, false), { failed: true, msg: `the thermal sensor of ${name} disappeared while waiting for it to cool` });
        }
        const waited = Math.round((Date.now() - t0) / 1000);
        return result(fact(now, threshold, mode, false), { msg: `${where(now)} ≤ ${threshold}°C${waited ? ` after ${waited}s` : ''}` });
      }
    }
  },
};
