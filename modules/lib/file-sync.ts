/**
 * Making one file on the host hold given content, mode and owner — the work template and copy
 * share. It reads first (one probe: does the file exist, its mode, owner and checksum), decides
 * what differs, and only then writes, so `changed` is honest, --check changes nothing and a second
 * run changes nothing.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { TaskContext, TaskResult } from '../../engine/module-types.js';
import { shellQuote } from '../../engine/transport/transport.js';
import { formatMode } from './file-args.js';

export interface FileWant {
  dest: string;
  content: Buffer;
  mode?: number;
  owner?: string;
  group?: string;
  backup?: boolean;
  /** For messages, e.g. `templates/distccd.conf.mustache`. */
  from: string;
}

export interface RemoteFile {
  state: 'absent' | 'file' | 'dir' | 'no-parent' | 'other';
  mode?: number;
  uid?: string;
  user?: string;
  gid?: string;
  groupName?: string;
  size?: number;
  /** sha256 of the content; undefined when the host has no sha256sum. */
  sha256?: string;
}

/** Diffs of files larger than this (or binary ones) show a summary instead of the content. */
const DIFF_LIMIT = 256 * 1024;

/** One round trip: what is at `dest` now. */
export function probeScript(dest: string): string {
  const f = shellQuote(dest);
  const dir = shellQuote(path.posix.dirname(dest));
  return [
    `if [ -d ${f} ]; then echo dir; exit 0; fi`,
    `if [ ! -e ${f} ]; then if [ -d ${dir} ]; then echo absent; else echo no-parent; fi; exit 0; fi`,
    `if [ ! -f ${f} ]; then echo other; exit 0; fi`,
    `stat -L -c 'file %a %u %U %g %G %s' -- ${f} || exit 1`,
    `if command -v sha256sum >/dev/null 2>&1; then sha256sum <${f} | cut -d' ' -f1; else echo -; fi`,
  ].join('\n');
}

export function parseProbe(stdout: string): RemoteFile {
  const [first = '', second = ''] = stdout.trim().split('\n');
  const w = first.trim().split(/\s+/);
  if (w[0] !== 'file') return { state: (['absent', 'dir', 'no-parent', 'other'].includes(w[0]) ? w[0] : 'other') as RemoteFile['state'] };
  const sum = second.trim();
  return {
    state: 'file',
    mode: Number.parseInt(w[1], 8),
    uid: w[2],
    user: w[3],
    gid: w[4],
    groupName: w[5],
    size: Number(w[6]),
    sha256: /^[0-9a-f]{64}$/.test(sum) ? sum : undefined,
  };
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** What differs between the host's file and what is wanted. Pure. */
export function plan(cur: RemoteFile, want: Omit<FileWant, 'content'> & { sha256: string }, sameContent: boolean | undefined): string[] {
  // A new file gets its mode as it is written; its owner and group need a chown after.
  if (cur.state === 'absent') return ['content', ...(want.owner !== undefined ? ['owner'] : []), ...(want.group !== undefined ? ['group'] : [])];
  const changes: string[] = [];
  if (!sameContent) changes.push('content');
  if (want.mode !== undefined && cur.mode !== want.mode) changes.push('mode');
  if (want.owner !== undefined && want.owner !== cur.user && want.owner !== cur.uid) changes.push('owner');
  if (want.group !== undefined && want.group !== cur.groupName && want.group !== cur.gid) changes.push('group');
  return changes;
}

function diffText(b: Buffer): string {
  if (b.length > DIFF_LIMIT || b.includes(0)) return `(${b.includes(0) ? 'binary' : 'large'} file: ${b.length} bytes, sha256 ${sha256(b)})\n`;
  return b.toString('utf8');
}

function backupName(dest: string, d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${dest}.${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}@${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}~`;
}

/** Makes `want.dest` on ctx's host hold `want.content` with the wanted mode and owner. */
export async function syncFile(ctx: TaskContext, want: FileWant): Promise<TaskResult> {
  const { dest } = want;
  if (!path.posix.isAbsolute(dest)) return { changed: false, failed: true, msg: `dest "${dest}" must be an absolute path on the host` };
  const probe = await ctx.transport.exec(probeScript(dest), { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
  if (probe.rc !== 0) return { changed: false, failed: true, rc: probe.rc, msg: `could not inspect ${dest} on ${ctx.host.name}: ${probe.stderr.trim() || `exit ${probe.rc}`}` };
  const cur = parseProbe(probe.stdout);
  if (cur.state === 'dir') return { changed: false, failed: true, msg: `dest ${dest} is a directory on ${ctx.host.name}; give the full path of the file to write` };
  if (cur.state === 'other') return { changed: false, failed: true, msg: `dest ${dest} on ${ctx.host.name} exists but is not a regular file; tsplay will not replace it` };
  if (cur.state === 'no-parent') {
    const dir = path.posix.dirname(dest);
    // In --check an earlier task that would create the directory did not run: say so, do not fail.
    if (ctx.check) return { changed: true, msg: `would create ${dest}, but its directory ${dir} does not exist yet (fine only if an earlier task creates it)`, data: { dest } };
    return { changed: false, failed: true, msg: `cannot write ${dest} on ${ctx.host.name}: its directory ${dir} does not exist`, data: { dest } };
  }

  const sum = sha256(want.content);
  let before: Buffer | null | undefined;
  let same: boolean | undefined;
  if (cur.state === 'file') {
    if (cur.sha256 !== undefined) same = cur.sha256 === sum;
    else {
      // No sha256sum on the host: compare the bytes themselves.
      before = await ctx.transport.get(dest);
      same = before !== null && before.equals(want.content);
    }
  }
  const changes = plan(cur, { ...want, sha256: sum }, same);
  const data: Record<string, unknown> = { dest, checksum: sum, size: want.content.length, changes };
  const finalMode = want.mode ?? cur.mode ?? 0o644;
  data.mode = formatMode(finalMode);
  if (changes.length === 0) return { changed: false, msg: `${dest} is up to date`, data };

  let diff: TaskResult['diff'];
  if (ctx.diff && changes.includes('content')) {
    if (cur.state === 'file' && before === undefined) before = await ctx.transport.get(dest);
    diff = { path: dest, before: before ? diffText(before) : '', after: diffText(want.content) };
  }
  const what = describeChanges(cur, want, changes);
  if (ctx.check) return { changed: true, msg: `would ${what.verb} ${what.object}`, diff, data };

  if (want.backup && cur.state === 'file' && changes.includes('content')) {
    const bak = backupName(dest);
    const r = await ctx.transport.exec(['cp', '-p', '--', dest, bak], { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    if (r.rc !== 0) return { changed: false, failed: true, rc: r.rc, msg: `could not back up ${dest} to ${bak}: ${r.stderr.trim()}`, data };
    data.backup_file = bak;
  }
  if (changes.includes('content')) {
    // put sets the mode on its temp file before the rename: the content never has looser permissions.
    await ctx.transport.put(dest, want.content, want.mode ?? (cur.state === 'absent' ? 0o644 : undefined));
  } else if (changes.includes('mode')) {
    const r = await ctx.transport.exec(['chmod', formatMode(finalMode), '--', dest], { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    if (r.rc !== 0) return { changed: true, failed: true, rc: r.rc, msg: `could not chmod ${dest}: ${r.stderr.trim()}`, data };
  }
  if (changes.includes('owner') || changes.includes('group')) {
    const spec = `${want.owner ?? ''}${want.group !== undefined ? `:${want.group}` : ''}`;
    const r = await ctx.transport.exec(['chown', '--', spec, dest], { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    if (r.rc !== 0) return { changed: true, failed: true, rc: r.rc, msg: `wrote ${dest} but could not chown it to ${spec}: ${r.stderr.trim()}`, data };
  }
  return { changed: true, msg: `${what.done} ${what.object}`, diff, data };
}

function describeChanges(cur: RemoteFile, want: Omit<FileWant, 'content'>, changes: string[]): { verb: string; done: string; object: string } {
  if (cur.state === 'absent') {
    const attrs = [`mode ${formatMode(want.mode ?? 0o644)}`, ...(want.owner ? [`owner ${want.owner}`] : []), ...(want.group ? [`group ${want.group}`] : [])];
    return { verb: 'create', done: 'created', object: `${want.dest} from ${want.from} (${attrs.join(', ')})` };
  }
  const parts: string[] = [];
  if (changes.includes('content')) parts.push('content');
  if (changes.includes('mode')) parts.push(`mode ${formatMode(cur.mode ?? 0)} → ${formatMode(want.mode!)}`);
  if (changes.includes('owner')) parts.push(`owner ${cur.user} → ${want.owner}`);
  if (changes.includes('group')) parts.push(`group ${cur.groupName} → ${want.group}`);
  return { verb: 'update', done: 'updated', object: `${want.dest} (${parts.join(', ')})` };
}
