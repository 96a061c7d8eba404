/**
 * Schema validators, precompiled at build time when possible. Compiling tsplay's schemas with ajv
 * on every start was most of `tsplay check`'s CPU time on a CM3+ (ajv generates and evals a
 * function per schema), so `npm run build` writes them out once with ajv's standalone code
 * (ajv's own feature for this: https://ajv.js.org/standalone.html) and this file loads them.
 *
 * A validator is found by a hash of its schema's JSON, so a schema edited without a rebuild, or
 * one the build did not know about, is simply compiled by ajv at run time, as before: the
 * precompiled table is a cache, never a second source of truth.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import { installRoot } from '../util/install.js';

/**
 * The two ways tsplay validates. `check`: parse-time validation of playbooks, inventories and
 * arguments — every error, with its (parent) schema, which the did-you-mean hints read.
 * `rendered`: a module's arguments after templating, where "3632" becomes 3632.
 */
export type Profile = 'check' | 'rendered';

export const PROFILE_OPTIONS: Record<Profile, Options> = {
  check: { allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true, verbose: true },
  rendered: { allErrors: true, coerceTypes: true, useDefaults: true, strict: false },
};

/** Where the build writes each profile's validators: dist/schemas/. */
export function precompiledFile(profile: Profile): string {
  return path.join(installRoot(), 'dist', 'schemas', `validators-${profile}.cjs`);
}

/** The export name of a schema's validator: stable across builds for the same schema JSON. */
export function schemaKey(schema: object): string {
  return 'v_' + createHash('sha1').update(JSON.stringify(schema)).digest('hex');
}

// Made on first use, not when this module loads: the start-up snapshot (cli/snapshot-entry.ts) holds
// this module loaded, and a require made while the snapshot was built would resolve from there.
let requireFn: NodeRequire | undefined;
const require = (id: string): unknown => (requireFn ??= createRequire(import.meta.url))(id);
const tables = new Map<Profile, Record<string, ValidateFunction> | null>();
const ajvs = new Map<Profile, Ajv>();
const cache = new WeakMap<object, ValidateFunction>();

/**
 * Gives a profile's precompiled validators directly, instead of from precompiledFile(): the
 * start-up snapshot (cli/snapshot-entry.ts) holds them loaded, from the same build.
 */
export function providePrecompiled(profile: Profile, validators: Record<string, ValidateFunction>): void {
  tables.set(profile, validators);
}

function table(profile: Profile): Record<string, ValidateFunction> | null {
  if (!tables.has(profile)) {
    let t: Record<string, ValidateFunction> | null;
    try {
      t = require(precompiledFile(profile)) as Record<string, ValidateFunction>;
    } catch {
      t = null; // not built (e.g. running from a checkout before `npm run build`): compile at run time
    }
    tables.set(profile, t);
  }
  return tables.get(profile)!;
}

/** A new ajv instance with `profile`'s options; ajv itself is only loaded when something must be compiled. */
export function newAjv(profile: Profile, extra: Options = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  return new AjvClass({ ...PROFILE_OPTIONS[profile], ...extra });
}

function ajvFor(profile: Profile): Ajv {
  let a = ajvs.get(profile);
  if (!a) {
    a = newAjv(profile);
    ajvs.set(profile, a);
  }
  return a;
}

/** Counts for tests and the bench: how many validators came precompiled and how many were compiled. */
export const validatorStats = { precompiled: 0, compiled: 0 };

/** The validator of `schema` under `profile`: precompiled when the build wrote it, else compiled now. */
export function validatorFor(profile: Profile, schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (v) return v;
  const pre = table(profile)?.[schemaKey(schema)];
  if (pre) {
    // Standalone functions do not carry their schema; the diagnostics read it (exclusive keys).
    v = Object.assign(((data: unknown) => {
      const ok = pre(data) as boolean;
      v!.errors = pre.errors;
      return ok;
    }) as ValidateFunction, { schema, errors: null });
    validatorStats.precompiled++;
  } else {
    v = ajvFor(profile).compile(schema);
    validatorStats.compiled++;
  }
  cache.set(schema, v);
  return v;
}
