/**
 * distcc-manifest: validates the distcc worker manifest on the controller and exposes what it
 * holds (workers, DISTCC_HOSTS, job slots) — post-power-on-validate shows it, pump-start checks it.
 * The same validation runs at parse time, so `tsplay check` reports a broken manifest with its
 * file:line:column before anything runs.
 */
import type { ModuleDef } from '../engine/module-types.js';
import { checkManifestStatically, describeProblems, fetchManifest, manifestPath, renderDistccHosts, workerSlots, MANIFEST_VAR } from './lib/distcc-manifest.js';

interface DistccManifestArgs {
  path?: string;
}

export const distccManifest: ModuleDef<DistccManifestArgs> = {
  name: 'distcc-manifest',
  description: `Validate the distcc worker manifest (schemas/distcc-manifest.schema.json) on the controller and return its workers, \`distcc_hosts\` (DISTCC_HOSTS for plain distcc), \`pump_hosts\` (for pump mode) and job \`slots\`. Changes nothing.`,
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: { type: 'string', minLength: 1, description: `The manifest file on the controller. Default: the variable \`${MANIFEST_VAR}\` (relative to the inventory's folder); a relative \`path:\` is relative to the playbook.` },
    },
  },
  staticCheck(args, ctx) {
    return checkManifestStatically(args.path, ctx.vars, ctx.playbookDir, true).map((p) => ({ ...p, arg: p.arg === 'manifest' ? 'path' : p.arg }));
  },
  examples: '```yaml\n- distcc-manifest: {}\n  register: manifest\n- debug:\n    msg: "workers: {{ manifest.hosts }} → {{ manifest.distcc_hosts }}"\n```',
  async run(ctx, args) {
    const file = manifestPath(args.path, ctx.vars, ctx.playbookDir);
    if (file === undefined) return { changed: false, failed: true, msg: `no distcc manifest: no \`path:\` and the variable ${MANIFEST_VAR} is not set` };
    const r = await fetchManifest(ctx.controller, file);
    if (!r.ok) return { changed: false, failed: true, msg: describeProblems(r.diagnostics) };
    const m = r.manifest;
    const distccHosts = renderDistccHosts(m, 'plain');
    return {
      changed: false,
      msg: `${file}: ${m.workers.length} worker${m.workers.length === 1 ? '' : 's'} (${m.workers.map((w) => w.host).join(', ')}), ${workerSlots(m)} job slots; DISTCC_HOSTS="${distccHosts}"`,
      data: {
        path: file,
        hosts: m.workers.map((w) => w.host),
        workers: m.workers,
        distcc_hosts: distccHosts,
        pump_hosts: renderDistccHosts(m, 'pump'),
        slots: workerSlots(m),
      },
    };
  },
};
