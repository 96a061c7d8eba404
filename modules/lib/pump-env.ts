/**
 * The pump environment file on the build host (default /run/tsplay/pump.env): what `pump --startup`
 * printed, plus DISTCC_HOSTS, as `export NAME='value'` lines, so an operator can `. pump.env` and
 * make-jobserver can read it back. Readable by its owner only (mode 0600).
 */
import { shellQuote } from '../../engine/transport/transport.js';

export const DEFAULT_ENV_FILE = '/run/tsplay/pump.env';

/** The variables of a pump session (pump(1): used by the distcc client and by `pump --shutdown`). */
export interface PumpEnv {
  DISTCC_HOSTS: string;
  INCLUDE_SERVER_PORT: string;
  INCLUDE_SERVER_PID: string;
  INCLUDE_SERVER_DIR: string;
  DISTCC_VERBOSE?: string;
  DISTCC_POTENTIAL_HOSTS?: string;
}

const ORDER: (keyof PumpEnv)[] = ['DISTCC_HOSTS', 'INCLUDE_SERVER_PORT', 'INCLUDE_SERVER_PID', 'INCLUDE_SERVER_DIR', 'DISTCC_VERBOSE', 'DISTCC_POTENTIAL_HOSTS'];
const REQUIRED: (keyof PumpEnv)[] = ['DISTCC_HOSTS', 'INCLUDE_SERVER_PORT', 'INCLUDE_SERVER_PID', 'INCLUDE_SERVER_DIR'];

export function renderPumpEnv(env: PumpEnv, manifest: string): string {
  const lines = [`# written by tsplay (pump start) from ${manifest}; use it with: . <this file>`];
  for (const k of ORDER) if (env[k] !== undefined) lines.push(`export ${k}=${shellQuote(env[k]!)}`);
  return lines.join('\n') + '\n';
}

/**
 * Reads `export NAME=value` / `NAME=value` lines with POSIX single and double quotes, as printed by
 * `pump --startup` and written by renderPumpEnv. Anything else (comments, blank lines) is skipped.
 */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    const value = unquote(m[2].trim());
    if (value !== undefined) out[m[1]] = value;
  }
  return out;
}

function unquote(s: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return undefined;
      out += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        out += s[j];
        j++;
      }
      if (j >= s.length) return undefined;
      i = j + 1;
    } else if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
    } else if (/\s/.test(c)) {
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The pump session in an env file, or the names it lacks. */
export function toPumpEnv(vars: Record<string, string>): { env: PumpEnv } | { missing: string[] } {
  const missing = REQUIRED.filter((k) => !vars[k]);
  if (missing.length) return { missing };
  const env: PumpEnv = {
    DISTCC_HOSTS: vars.DISTCC_HOSTS,
    INCLUDE_SERVER_PORT: vars.INCLUDE_SERVER_PORT,
    INCLUDE_SERVER_PID: vars.INCLUDE_SERVER_PID,
    INCLUDE_SERVER_DIR: vars.INCLUDE_SERVER_DIR,
  };
  if (vars.DISTCC_VERBOSE !== undefined) env.DISTCC_VERBOSE = vars.DISTCC_VERBOSE;
  if (vars.DISTCC_POTENTIAL_HOSTS !== undefined) env.DISTCC_POTENTIAL_HOSTS = vars.DISTCC_POTENTIAL_HOSTS;
  return { env };
}

/** The env as exec() wants it. */
export function envRecord(env: PumpEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ORDER) if (env[k] !== undefined) out[k] = env[k]!;
  return out;
}
