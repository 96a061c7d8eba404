/**
 * The distcc worker manifest (schemas/distcc-manifest.schema.json), shared by pump and
 * make-jobserver: loaded with the project's YAML loader (positions kept) and validated with ajv, so
 * every problem points at the manifest's own file:line:column; then rendered as DISTCC_HOSTS.
 *
 * The manifest lives on the controller. Parse-time checks read it from the controller's disk
 * (staticCheck never contacts a host); run-time reads go through the controller transport.
 */
import path from 'node:path';
import type { Diagnostic } from '../../engine/diagnostics.js';
import type { Transport } from '../../engine/transport/transport.js';
import type { StaticProblem } from '../../engine/module-types.js';
import { loadYamlFile, parseYaml, type LoadedYaml } from '../../engine/yaml/source.js';
import { compile, schemaDiagnostics } from '../../engine/validate/schema.js';
import { isUnresolved } from '../../engine/validate/partial-render.js';
import manifestSchema from '../../schemas/distcc-manifest.schema.json' with { type: 'json' };

export type WorkerOption = 'cpp' | 'lzo' | 'zstd';

export interface Worker {
  host: string;
  address?: string;
  port: number;
  jobs: number;
  options: WorkerOption[];
}

export interface Manifest {
  path: string;
  workers: Worker[];
}

/** The inventory variable naming the manifest when a task has no `manifest:` argument. */
export const MANIFEST_VAR = 'distcc_manifest';

/** Rule ids: the file cannot be read, or what it holds is not a valid manifest. */
export const MANIFEST_MISSING = 'manifest/missing';
export const MANIFEST_INVALID = 'manifest/invalid';

export type ManifestLoad = { ok: true; manifest: Manifest } | { ok: false; diagnostics: Diagnostic[] };

/** Validates parsed YAML; every schema or YAML problem becomes `manifest/invalid` at its place in the file. */
function validate(loaded: LoadedYaml, file: string): ManifestLoad {
  if (loaded.diagnostics.length) {
    const missing = loaded.diagnostics.some((d) => d.code === 'file/unreadable' || d.code === 'file/is-directory');
    return {
      ok: false,
      diagnostics: loaded.diagnostics.map((d) => ({
        ...d,
        code: missing ? MANIFEST_MISSING : MANIFEST_INVALID,
        message: `distcc manifest: ${d.message}`,
        hint: missing ? `the manifest lives on the controller; set \`manifest:\` or the inventory variable ${MANIFEST_VAR}` : d.hint,
      })),
    };
  }
  const value = loaded.value;
  const diags: Diagnostic[] = schemaDiagnostics(compile(manifestSchema), value, loaded.source, undefined, { codePrefix: 'manifest', what: 'distcc manifest' }).map((d) => ({
    ...d,
    // One stable rule id for "not a valid manifest"; the message says which key and why.
    code: MANIFEST_INVALID,
    hint: d.hint ?? 'see schemas/distcc-manifest.schema.json: workers: [{host, address?, port?, jobs?, options?}]',
  }));
  if (diags.length) return { ok: false, diagnostics: diags };
  const workers = (value as { workers: Worker[] }).workers;
  const seen = new Map<string, number>();
  workers.forEach((w, i) => {
    const key = `${w.address ?? w.host}:${w.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      diags.push(loaded.source.diag(MANIFEST_INVALID, `distcc manifest: worker ${i + 1} (${w.host}) is the same server as worker ${first + 1} (${key})`, loaded.source.locate(workers, i), 'list each distccd once; raise its `jobs` instead'));
    } else seen.set(key, i);
  });
  if (diags.length) return { ok: false, diagnostics: diags };
  return { ok: true, manifest: { path: file, workers: workers.map((w) => ({ ...w, options: [...w.options] })) } };
}

/** Reads and validates a manifest on the controller's disk (parse time). */
export function loadManifestFile(file: string): ManifestLoad {
  return validate(loadYamlFile(file), file);
}

/** Validates manifest text fetched at run time (through the controller transport). */
export function parseManifest(text: string, file: string): ManifestLoad {
  return validate(parseYaml(text, file), file);
}

/**
 * distcc(1): `HOST[:PORT][/LIMIT][,OPTIONS]`. The address is used when the manifest gives one,
 * since the builder may resolve the worker's name differently from the controller. `cpp` marks a
 * pump-capable server; without pump it is dropped, or every compile would warn that
 * INCLUDE_SERVER_PORT is unset before preprocessing locally anyway.
 */
export function renderDistccHosts(m: Manifest, mode: 'pump' | 'plain'): string {
  return m.workers
    .map((w) => {
      const opts = w.options.filter((o) => mode === 'pump' || o !== 'cpp');
      return `${w.address ?? w.host}:${w.port}/${w.jobs}${opts.length ? ',' + opts.join(',') : ''}`;
    })
    .join(' ');
}

/** The workers' total job slots (what the cluster can take at once). */
export function workerSlots(m: Manifest): number {
  return m.workers.reduce((n, w) => n + w.jobs, 0);
}

/** Which manifest path a task means: its `manifest:` argument, else the inventory variable. */
export function manifestPath(arg: unknown, vars: Record<string, unknown> | undefined, baseDir: string): string | undefined {
  const raw = arg !== undefined ? arg : vars?.[MANIFEST_VAR];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const p = String(raw);
  // The inventory's variable is relative to the inventory (as Ansible resolves inventory files);
  // a path written in the task is relative to the playbook.
  const inventoryDir = typeof vars?.inventory_dir === 'string' ? vars.inventory_dir : undefined;
  return path.isAbsolute(p) ? p : path.resolve(arg === undefined && inventoryDir ? inventoryDir : baseDir, p);
}

/**
 * The parse-time check both modules run: the manifest must exist and be valid. A path that
 * depends on a run-time value cannot be checked yet and is left to the run.
 */
export function checkManifestStatically(arg: unknown, vars: Record<string, unknown> | undefined, baseDir: string, required: boolean): StaticProblem[] {
  if (isUnresolved(arg) || (arg === undefined && isUnresolved(vars?.[MANIFEST_VAR]))) return [];
  const file = manifestPath(arg, vars, baseDir);
  if (file === undefined) {
    if (!required) return [];
    return [{ code: MANIFEST_MISSING, arg: 'manifest', message: `no distcc manifest: the task has no \`manifest:\` and the variable ${MANIFEST_VAR} is not set`, hint: `set \`manifest: path/to/distcc-hosts.yml\` or define ${MANIFEST_VAR} in the inventory` }];
  }
  const r = loadManifestFile(file);
  if (r.ok) return [];
  // A problem inside the manifest points there; an unreadable manifest points at the task.
  return r.diagnostics.map((d) =>
    d.line === undefined
      ? { code: d.code, message: d.message, hint: d.hint, arg: 'manifest' }
      : { code: d.code, message: d.message, hint: d.hint, arg: 'manifest', file: d.file, line: d.line, column: d.column, sourceLine: d.sourceLine },
  );
}

/** Run time: the manifest read through the controller transport (where it lives), validated. */
export async function fetchManifest(controller: Transport, file: string): Promise<ManifestLoad> {
  const buf = await controller.get(file);
  if (buf === null) {
    return { ok: false, diagnostics: [{ code: MANIFEST_MISSING, severity: 'error', message: `distcc manifest: cannot read ${file}: no such file on the controller`, hint: `set \`manifest:\` or the inventory variable ${MANIFEST_VAR}` }] };
  }
  return parseManifest(buf.toString('utf8'), file);
}

/** One line per problem, `file:line:column: rule: message`, for a task's msg. */
export function describeProblems(diags: Diagnostic[]): string {
  return diags
    .map((d) => `${d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}: ` : ''}${d.code}: ${d.message}`)
    .join('; ');
}
