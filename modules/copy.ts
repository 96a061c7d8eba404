/**
 * copy: makes a file on the host hold a controller file's bytes (`src`, not templated) or the
 * given `content` — written only when content, mode or owner differ.
 */
import { readFileSync, statSync } from 'node:fs';
import type { ModuleDef, StaticProblem, TaskContext, TaskResult } from '../engine/module-types.js';
import { toText } from '../engine/expr/values.js';
import { FILE_TARGET_PROPERTIES, displayPath, findSrc, modeProblems, parseMode, unresolved } from './lib/file-args.js';
import { syncFile } from './lib/file-sync.js';

export interface CopyArgs {
  src?: string;
  content?: unknown;
  dest: string;
  mode?: string | number;
  owner?: string;
  group?: string;
  backup?: boolean;
}

function missing(src: string, tried: string[]): string {
  const dir = tried.find((p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  });
  if (dir) return `copy source "${src}" is a directory (${displayPath(dir)}); copy writes one file`;
  return `copy source "${src}" does not exist (looked for ${tried.map(displayPath).join(' and ')})`;
}

export const copy: ModuleDef<CopyArgs> = {
  name: 'copy',
  description:
    'Write a file on the host from a controller file (`src`, copied byte for byte, not templated) or from `content` (templated like any argument). The file is replaced (atomically) only when its content, mode or owner differ.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['dest'],
    properties: {
      src: { type: 'string', minLength: 1, description: 'A file on the controller: an absolute path, or relative to the playbook’s directory (then its `files/` folder). Copied as is.' },
      content: { description: 'The file’s content. A string is written as is (after templating); a list or mapping is written as JSON.' },
      ...FILE_TARGET_PROPERTIES,
    },
    oneOf: [{ required: ['src'] }, { required: ['content'] }],
  },
  staticCheck(args, ctx) {
    const problems: StaticProblem[] = modeProblems(args.mode);
    if (typeof args.src !== 'string' || unresolved(args.src)) return problems;
    const look = findSrc(args.src, ctx.playbookDir, 'files');
    if (!look.found) problems.push({ code: 'copy/missing-src', arg: 'src', message: missing(args.src, look.tried), hint: 'src is a file on the controller, relative to the playbook’s directory or its files/ folder' });
    return problems;
  },
  examples:
    "```yaml\n- name: Pump environment (secret token inside)\n  copy:\n    content: |\n      DISTCC_HOSTS={{ distcc_hosts }}\n      PUMP_TOKEN={{ pump_token }}\n    dest: /etc/pump.env\n    mode: '0600'\n  no_log: true\n```",
  async run(ctx: TaskContext, args: CopyArgs): Promise<TaskResult> {
    const mode = parseMode(args.mode);
    let content: Buffer;
    let from: string;
    if (args.src !== undefined) {
      const look = findSrc(String(args.src), ctx.playbookDir, 'files');
      if (!look.found) return { changed: false, failed: true, msg: missing(String(args.src), look.tried) };
      content = readFileSync(look.found);
      from = displayPath(look.found);
    } else {
      const c = args.content;
      content = Buffer.from(typeof c === 'string' ? c : c !== null && typeof c === 'object' ? JSON.stringify(c) : toText(c), 'utf8');
      from = 'content';
    }
    return syncFile(ctx, { dest: args.dest, content, mode, owner: args.owner, group: args.group, backup: args.backup, from });
  },
};
