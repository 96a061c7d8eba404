import { TsplayError, type Diagnostic } from '../engine/diagnostics.js';

/**
 * `usage`: the user asked for something that cannot be (unknown host, bad number) — exit 2.
 * `environment`: the machine cannot run the lab as asked (not root, subnet taken, a command failed) — exit 1.
 */
export type LabErrorKind = 'usage' | 'environment';

export class LabError extends TsplayError {
  readonly kind: LabErrorKind;
  constructor(kind: LabErrorKind, code: string, message: string, hint?: string) {
    const d: Diagnostic = { code, message, severity: 'error', ...(hint ? { hint } : {}) };
    super(d);
    this.name = 'LabError';
    this.kind = kind;
  }
}

export function usageError(code: string, message: string, hint?: string): LabError {
  return new LabError('usage', code, message, hint);
}

export function environmentError(code: string, message: string, hint?: string): LabError {
  return new LabError('environment', code, message, hint);
}

export function isLabError(err: unknown): err is LabError {
  return err instanceof LabError;
}
