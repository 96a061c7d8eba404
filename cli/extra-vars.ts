/** -e k=v (several per flag allowed), -e @file.yml, -e '{"json": true}'. Values are YAML scalars (14 is a number). */
import { readFileSync, statSync } from 'node:fs';
import { MAX_FILE_BYTES } from '../engine/yaml/source.js';
import { parse } from 'yaml';
import { UsageError } from './exit-codes.js';

export function parseExtraVars(list: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of list) {
    const s = raw.trim();
    if (s.startsWith('@')) {
      const file = s.slice(1);
      let text: string;
      try {
        const size = statSync(file).size;
        if (size > MAX_FILE_BYTES) throw new UsageError('cli/extra-vars-file', `-e @${file} is ${size} bytes; tsplay reads variable files up to ${MAX_FILE_BYTES} bytes`);
        text = readFileSync(file, 'utf8');
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError('cli/extra-vars-file', `-e @${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      let v: unknown;
      try {
        v = parse(text);
      } catch (e) {
        throw new UsageError('cli/extra-vars-file', `-e @${file}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('cli/extra-vars-file', `-e @${file} must hold a mapping of variable names to values`);
      Object.assign(out, v);
    } else if (s.startsWith('{')) {
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch (e) {
        throw new UsageError('cli/extra-vars', `-e ${s}: not valid JSON: ${(e as Error).message}`);
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('cli/extra-vars', `-e ${s}: must be a JSON object`);
      Object.assign(out, v);
    } else {
      for (const pair of s.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new UsageError('cli/extra-vars', `-e "${pair}": expected name=value, @file or a JSON object`);
        const name = pair.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError('cli/extra-vars', `-e "${pair}": "${name}" is not a valid variable name`);
        let value: unknown = pair.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
        try {
          const parsed = parse(String(value));
          if (parsed === null || ['string', 'number', 'boolean'].includes(typeof parsed)) value = parsed ?? '';
        } catch {
          /* keep the string */
        }
        out[name] = value;
      }
    }
  }
  return out;
}
