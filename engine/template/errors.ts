/** A template that cannot be parsed: unclosed tag or section, mismatched section, bad tag name. */
export class TemplateSyntaxError extends Error {
  readonly code = 'template/syntax';
  /** 0-based offset into the template. */
  readonly offset: number;
  readonly hint?: string;
  constructor(message: string, offset: number, hint?: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
    this.offset = offset;
    this.hint = hint;
  }
}
