/**
 * Tests (`value is name`, `value is not name(args)`): one small definition each, in an explicit
 * registry. The registered-result tests follow Ansible's (`changed` also looks into loop `results`).
 */
import { FilterFailure } from './filters.js';
import { pythonRegex } from './regex.js';
import { UNDEFINED, isPlainObject, lookupKey, typeName } from './values.js';

export interface TestDef {
  minArgs: number;
  maxArgs: number;
  /** The subject may be an undefined variable path (`defined`, `undefined`). */
  softSubject?: boolean;
  regexArgs?: number[];
  /** Throws FilterFailure on a subject of the wrong kind. */
  apply(subject: unknown, args: unknown[]): boolean;
}

function resultFlag(test: string, subject: unknown, flag: 'failed' | 'changed' | 'skipped'): boolean {
  if (!isPlainObject(subject)) {
    throw new FilterFailure('expr/type', `the '${test}' test expects a registered task result (a mapping), got ${typeName(subject)}`);
  }
  const own = lookupKey(subject, flag);
  if (own !== UNDEFINED) return own === true;
  if (flag === 'changed') {
    const results = lookupKey(subject, 'results');
    if (Array.isArray(results)) return results.some((r) => isPlainObject(r) && lookupKey(r, 'changed') === true);
  }
  return false;
}

function regexTest(name: string, anchored: boolean): TestDef {
  return {
    minArgs: 1,
    maxArgs: 1,
    regexArgs: [0],
    apply(subject, args) {
      if (typeof subject !== 'string') throw new FilterFailure('expr/type', `the '${name}' test expects a string, got ${typeName(subject)}`);
      if (typeof args[0] !== 'string') throw new FilterFailure('expr/type', `the '${name}' test expects a string pattern`);
      let re: RegExp;
      try {
        re = pythonRegex(args[0]);
      } catch (e) {
        throw new FilterFailure('expr/value', `invalid regular expression: ${(e as Error).message}`);
      }
      // Python's re.match anchors at the start of the string only: a sticky regex at 0 does that.
      const r = anchored ? new RegExp(re.source, `${re.flags}y`) : re;
      r.lastIndex = 0;
      return r.test(subject);
    },
  };
}

const succeeded: TestDef = { minArgs: 0, maxArgs: 0, apply: (v) => !resultFlag('succeeded', v, 'failed') };
const failed: TestDef = { minArgs: 0, maxArgs: 0, apply: (v) => resultFlag('failed', v, 'failed') };
const changed: TestDef = { minArgs: 0, maxArgs: 0, apply: (v) => resultFlag('changed', v, 'changed') };
const skipped: TestDef = { minArgs: 0, maxArgs: 0, apply: (v) => resultFlag('skipped', v, 'skipped') };

export const TESTS: Readonly<Record<string, TestDef>> = {
  defined: { minArgs: 0, maxArgs: 0, softSubject: true, apply: (v) => v !== UNDEFINED },
  undefined: { minArgs: 0, maxArgs: 0, softSubject: true, apply: (v) => v === UNDEFINED },
  none: { minArgs: 0, maxArgs: 0, apply: (v) => v === null },
  string: { minArgs: 0, maxArgs: 0, apply: (v) => typeof v === 'string' },
  number: { minArgs: 0, maxArgs: 0, apply: (v) => typeof v === 'number' || typeof v === 'bigint' },
  boolean: { minArgs: 0, maxArgs: 0, apply: (v) => typeof v === 'boolean' },
  mapping: { minArgs: 0, maxArgs: 0, apply: (v) => isPlainObject(v) },
  sequence: { minArgs: 0, maxArgs: 0, apply: (v) => Array.isArray(v) || typeof v === 'string' },
  true: { minArgs: 0, maxArgs: 0, apply: (v) => v === true },
  false: { minArgs: 0, maxArgs: 0, apply: (v) => v === false },
  succeeded,
  success: succeeded,
  failed,
  failure: failed,
  changed,
  change: changed,
  skipped,
  skip: skipped,
  match: regexTest('match', true),
  search: regexTest('search', false),
};

export function getTest(name: string): TestDef | undefined {
  return Object.prototype.hasOwnProperty.call(TESTS, name) ? TESTS[name] : undefined;
}
