/**
 * template: renders a Mustache file from the controller with the task's variables (tsplay's
 * strict renderer: no HTML escaping, an undefined variable is an error) and makes a file on the
 * host hold the result — written only when its content, mode or owner differ.
 */
import { readFileSync } from 'node:fs';
import type { ModuleDef, StaticProblem, TaskContext, TaskResult } from '../engine/module-types.js';
import { offsetToLineCol, renderTemplate, templateVariables, TemplateSyntaxError, UndefinedVariableError } from '../engine/template/index.js';
import { FILE_TARGET_PROPERTIES, displayPath, findSrc, modeProblems, parseMode, unresolved } from './lib/file-args.js';
import { syncFile } from './lib/file-sync.js';

export interface TemplateArgs {
  src: string;
  dest: string;
  mode?: string | number;
  owner?: string;
  group?: string;
  backup?: boolean;
}

/** A template file that cannot be rendered: the place is in the template file, not the playbook. */
export class TemplateFileError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'TemplateFileError';
  }
}

function lineAt(text: string, line: number): string {
  return text.split(/\r\n|\r|\n/)[line - 1] ?? '';
}

export const template: ModuleDef<TemplateArgs> = {
  name: 'template',
  description:
    'Render a Mustache template from the controller with the task’s variables and write the result to a file on the host. No HTML escaping; an undefined variable is an error naming the template file, line and column. The file is replaced (atomically) only when its content, mode or owner differ.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: { type: 'string', minLength: 1, description: 'The template on the controller: an absolute path, or relative to the playbook’s directory (then its `templates/` folder).' },
      ...FILE_TARGET_PROPERTIES,
    },
  },
  staticCheck(args, ctx) {
    const problems: StaticProblem[] = modeProblems(args.mode);
    if (typeof args.src !== 'string' || unresolved(args.src)) return problems;
    const look = findSrc(args.src, ctx.playbookDir, 'templates');
    if (!look.found) {
      problems.push({
        code: 'template/missing-src',
        arg: 'src',
        message: `template source "${args.src}" does not exist (looked for ${look.tried.map(displayPath).join(' and ')})`,
        hint: 'src is a file on the controller, relative to the playbook’s directory or its templates/ folder',
      });
      return problems;
    }
    const file = displayPath(look.found);
    const text = readFileSync(look.found, 'utf8');
    let vars: ReturnType<typeof templateVariables>;
    try {
      vars = templateVariables(text);
    } catch (e) {
      if (!(e instanceof TemplateSyntaxError)) throw e;
      const at = offsetToLineCol(text, e.offset);
      problems.push({ code: e.code, arg: 'src', message: `template ${file}: ${e.message}`, file, ...at, sourceLine: lineAt(text, at.line), hint: e.hint ?? 'close every `{{` with `}}` and every `{{#section}}` with `{{/section}}`' });
      return problems;
    }
    if (!ctx.isDefined) return problems;
    for (const v of vars) {
      if (v.inverted || ctx.isDefined(v.root)) continue;
      const at = offsetToLineCol(text, v.offset);
      problems.push({
        code: 'template/undefined-variable',
        arg: 'src',
        message: `template ${file} uses \`${v.name}\`, which is not defined${ctx.host ? ` for host ${ctx.host}` : ''}`,
        file,
        ...at,
        sourceLine: lineAt(text, at.line),
        hint: 'define it in the inventory, the play or task `vars:`, register it in an earlier task, or pass -e; guard optional parts with {{^name}}…{{/name}}',
      });
    }
    return problems;
  },
  examples:
    '```yaml\n- name: distccd settings\n  template:\n    src: templates/distccd.conf.mustache\n    dest: /etc/default/distccd\n    mode: \'0644\'\n  notify: restart distccd\n```',
  async run(ctx: TaskContext, args: TemplateArgs): Promise<TaskResult> {
    const mode = parseMode(args.mode);
    const look = findSrc(String(args.src), ctx.playbookDir, 'templates');
    if (!look.found) return { changed: false, failed: true, msg: `template source "${args.src}" does not exist (looked for ${look.tried.map(displayPath).join(' and ')})` };
    const file = displayPath(look.found);
    const text = readFileSync(look.found, 'utf8');
    let rendered: string;
    try {
      rendered = renderTemplate(text, ctx.vars);
    } catch (e) {
      if (e instanceof UndefinedVariableError || e instanceof TemplateSyntaxError) {
        const at = offsetToLineCol(text, e.offset ?? 0);
        throw new TemplateFileError(e.code, `${file}:${at.line}:${at.column}: ${e.message}`, e.hint);
      }
      throw e;
    }
    return syncFile(ctx, { dest: args.dest, content: Buffer.from(rendered, 'utf8'), mode, owner: args.owner, group: args.group, backup: args.backup, from: file });
  },
};
