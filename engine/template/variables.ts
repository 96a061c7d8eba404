/**
 * Static analysis of a template: the variables it needs from the outer scope, without rendering.
 */
import { compileTemplate } from './compile.js';
import type { TemplateNode } from './compile.js';

export interface TemplateVariable {
  /** As written, e.g. `user.name`. */
  name: string;
  /** The first part, e.g. `user`. */
  root: string;
  /** Offset of the tag in the template. */
  offset: number;
  /** True for an inverted section tag (`{{^x}}`), which may test an undefined name. */
  inverted: boolean;
}

/**
 * Names whose root must come from the outer scope. Names inside a `{{#x}}` section may resolve
 * against x's value, so they are not reported; names inside `{{^x}}` and `{{#quote}}` see the
 * outer scope and are. `{{.}}` is never reported. Throws TemplateSyntaxError.
 */
export function templateVariables(tpl: string): TemplateVariable[] {
  const out: TemplateVariable[] = [];
  const visit = (nodes: TemplateNode[]): void => {
    for (const n of nodes) {
      if (n.kind === 'text') continue;
      if (n.kind === 'section' && n.quote) {
        visit(n.children);
        continue;
      }
      const inverted = n.kind === 'section' && n.inverted;
      if (n.parts[0] !== '.') out.push({ name: n.name, root: n.parts[0], offset: n.offset, inverted });
      if (inverted) visit(n.children);
    }
  };
  if (tpl.includes('{{')) visit(compileTemplate(tpl).nodes);
  return out;
}
