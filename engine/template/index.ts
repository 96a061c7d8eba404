/**
 * Templating: Mustache syntax (`{{ var }}`, `{{ a.b }}`, `{{ a.0 }}`, sections) with tsplay's
 * rules — no HTML escaping, undefined variables are errors, `{{#quote}}` shell-quotes, and a string
 * that is a single tag keeps its value's type.
 */
export { TemplateSyntaxError } from './errors.js';
export { UndefinedVariableError } from '../expr/errors.js';
export { renderTemplate, renderValue } from './render.js';
export { templateVariables } from './variables.js';
export type { TemplateVariable } from './variables.js';
export { offsetToLineCol } from './position.js';
export { shellQuote } from '../transport/transport.js';

/** True when the string contains a template tag opener. */
export function hasTemplate(s: string): boolean {
  return s.includes('{{');
}
