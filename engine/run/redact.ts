/** Secrets never reach output, the journal, metrics or reports: values of secret variables are masked. */
export const MASK = '********';

export class Redactor {
  private secrets: string[] = [];
  constructor(values: Iterable<unknown>) {
    this.add(values);
  }
  /** More secret values (e.g. a play's vars once rendered). */
  add(values: Iterable<unknown>): void {
    const fresh = [...values].filter((v): v is string | number => typeof v === 'string' || typeof v === 'number').map(String).filter((s) => s.length >= 4);
    if (fresh.every((s) => this.secrets.includes(s))) return;
    // Longest first, so a secret containing another is masked whole.
    this.secrets = [...new Set([...this.secrets, ...fresh])].sort((a, b) => b.length - a.length);
  }
  text(s: string): string;
  text(s: string | undefined): string | undefined;
  text(s: string | undefined): string | undefined {
    if (s === undefined || this.secrets.length === 0) return s;
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }
  value<T>(v: T): T {
    if (this.secrets.length === 0) return v;
    if (typeof v === 'string') return this.text(v) as T;
    if (Array.isArray(v)) return v.map((x) => this.value(x)) as T;
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.value(x);
      return out as T;
    }
    return v;
  }
}

/** Secret values of a host: variables named in `secret_vars`, and any variable whose name says it is a secret. */
export function secretValues(vars: Record<string, unknown>, secretNames: string[]): unknown[] {
  const out: unknown[] = [];
  for (const [k, v] of Object.entries(vars)) {
    if (secretNames.includes(k) || /(^|_)(password|passwd|secret|token|api_key|private_key_passphrase)$/i.test(k)) out.push(v);
  }
  return out;
}
