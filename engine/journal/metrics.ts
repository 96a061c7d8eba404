/**
 * Prometheus text exposition (format 0.0.4) of a run, for node_exporter's textfile collector.
 * Built from the journal's model, so it holds only what the journal holds (redacted). The file is
 * written to PATH.tmp and renamed, so the collector never reads half a file.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { RunModel } from './model.js';

export interface MetricDoc {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  labels: string[];
}

/** Every metric tsplay writes (the documented names). */
export const METRICS: MetricDoc[] = [
  { name: 'tsplay_run_info', type: 'gauge', help: 'Always 1; labels describe the last run.', labels: ['run_id', 'kind', 'outcome'] },
  { name: 'tsplay_run_success', type: 'gauge', help: '1 when the last run finished ok, else 0.', labels: [] },
  { name: 'tsplay_run_duration_seconds', type: 'gauge', help: 'Wall time of the last run.', labels: [] },
  { name: 'tsplay_run_start_timestamp_seconds', type: 'gauge', help: 'Unix time the last run started.', labels: [] },
  { name: 'tsplay_run_end_timestamp_seconds', type: 'gauge', help: 'Unix time the last run ended.', labels: [] },
  { name: 'tsplay_stage_success', type: 'gauge', help: 'Lifecycle: 1 when the stage succeeded, 0 when it failed or was interrupted (stages not run are absent).', labels: ['stage'] },
  { name: 'tsplay_stage_duration_seconds', type: 'gauge', help: 'Lifecycle: wall time of the stage.', labels: ['stage'] },
  { name: 'tsplay_task_duration_seconds', type: 'gauge', help: 'Wall time of a task on a host (all loop items together).', labels: ['playbook', 'play', 'task_id', 'task', 'host'] },
  { name: 'tsplay_host_tasks_total', type: 'gauge', help: 'Tasks of the last run per host and result status.', labels: ['host', 'status'] },
  { name: 'tsplay_host_unreachable', type: 'gauge', help: '1 when the host was unreachable during the last run.', labels: ['host'] },
  { name: 'tsplay_make_duration_seconds', type: 'gauge', help: 'Wall time of the make-jobserver tasks on a host, summed.', labels: ['host'] },
  { name: 'tsplay_make_success', type: 'gauge', help: '1 when every make-jobserver task on the host succeeded.', labels: ['host'] },
  { name: 'tsplay_thermal_celsius', type: 'gauge', help: 'Last temperature read on the host (tsplay_thermal fact or thermal task).', labels: ['host'] },
  { name: 'tsplay_thermal_threshold_celsius', type: 'gauge', help: 'Thermal threshold that applied to the host.', labels: ['host'] },
  { name: 'tsplay_thermal_throttled', type: 'gauge', help: '1 when the host was throttled to the diagnostic parallelism because it was too hot.', labels: ['host'] },
];

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(Math.round(v * 1000) / 1000);
}

interface Thermal {
  celsius?: number;
  threshold?: number;
  throttled?: boolean;
}

/** A thermal reading from a fact or a registered result: `{celsius, threshold_c, throttled}`. */
function thermalOf(v: unknown): Thermal | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const c = typeof o.celsius === 'number' ? o.celsius : undefined;
  if (c === undefined) return undefined;
  return { celsius: c, threshold: typeof o.threshold_c === 'number' ? o.threshold_c : undefined, throttled: typeof o.throttled === 'boolean' ? o.throttled : undefined };
}

export function renderMetrics(m: RunModel): string {
  const samples = new Map<string, { labels: Record<string, string>; value: number }[]>();
  const add = (name: string, labels: Record<string, string>, value: number) => {
    const list = samples.get(name) ?? [];
    const key = JSON.stringify(labels);
    const existing = list.find((s) => JSON.stringify(s.labels) === key);
    // Two tasks with the same labels (same name twice in a play) add up rather than clash.
    if (existing) existing.value += value;
    else list.push({ labels, value });
    samples.set(name, list);
  };
  const ok = m.outcome === 'ok';
  add('tsplay_run_info', { run_id: m.runId, kind: m.journal.meta.kind, outcome: m.outcome }, 1);
  add('tsplay_run_success', {}, ok ? 1 : 0);
  add('tsplay_run_duration_seconds', {}, m.durationMs / 1000);
  add('tsplay_run_start_timestamp_seconds', {}, Date.parse(m.start) / 1000);
  add('tsplay_run_end_timestamp_seconds', {}, Date.parse(m.end) / 1000);
  for (const s of m.stages) {
    if (!s.outcome) continue;
    add('tsplay_stage_success', { stage: s.name }, s.outcome === 'ok' ? 1 : 0);
    add('tsplay_stage_duration_seconds', { stage: s.name }, (s.durationMs ?? 0) / 1000);
  }
  const thermal = new Map<string, Thermal>();
  const make = new Map<string, { seconds: number; ok: boolean }>();
  for (const h of m.hosts) add('tsplay_host_unreachable', { host: h }, 0);
  for (const t of m.tasks) {
    if (t.restoredFrom || t.status === undefined) continue;
    add('tsplay_task_duration_seconds', { playbook: t.playbook, play: t.play, task_id: t.taskId, task: t.task, host: t.host }, (t.durationMs ?? 0) / 1000);
    add('tsplay_host_tasks_total', { host: t.host, status: t.status }, 1);
    if (t.status === 'unreachable') {
      const list = samples.get('tsplay_host_unreachable')!;
      list.find((s) => s.labels.host === t.host)!.value = 1;
    }
    if (t.module === 'make-jobserver' && t.status !== 'skipped') {
      const cur = make.get(t.host) ?? { seconds: 0, ok: true };
      cur.seconds += (t.durationMs ?? 0) / 1000;
      cur.ok &&= t.status === 'ok' || t.status === 'changed';
      make.set(t.host, cur);
    }
    const reading = thermalOf(t.state?.facts?.tsplay_thermal) ?? (t.module === 'thermal' ? thermalOf(t.state?.registered) : undefined);
    if (reading) thermal.set(t.host, reading);
  }
  for (const [h, v] of make) {
    add('tsplay_make_duration_seconds', { host: h }, v.seconds);
    add('tsplay_make_success', { host: h }, v.ok ? 1 : 0);
  }
  for (const [h, r] of thermal) {
    if (r.celsius !== undefined) add('tsplay_thermal_celsius', { host: h }, r.celsius);
    if (r.threshold !== undefined) add('tsplay_thermal_threshold_celsius', { host: h }, r.threshold);
    if (r.throttled !== undefined) add('tsplay_thermal_throttled', { host: h }, r.throttled ? 1 : 0);
  }
  const out: string[] = [];
  for (const doc of METRICS) {
    const list = samples.get(doc.name);
    if (!list?.length) continue;
    out.push(`# HELP ${doc.name} ${escapeHelp(doc.help)}`, `# TYPE ${doc.name} ${doc.type}`);
    for (const s of list) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      out.push(`${doc.name}${labels.length ? `{${labels.join(',')}}` : ''} ${num(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Writes PATH.tmp then renames it over PATH (atomic for the collector). Throws with the reason. */
export function writeMetricsFile(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw err;
  }
}
