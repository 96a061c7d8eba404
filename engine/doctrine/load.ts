/** The doctrine table (schemas/doctrine.json), validated against its own schema once per process. */
import type { Doctrine } from '../doctrine-types.js';
import { TsplayError } from '../diagnostics.js';
import { compile } from '../validate/schema.js';
import doctrineData from '../../schemas/doctrine.json' with { type: 'json' };
import doctrineSchema from '../../schemas/doctrine.schema.json' with { type: 'json' };

let cached: Doctrine | undefined;

export function loadDoctrine(): Doctrine {
  if (cached) return cached;
  const validate = compile(doctrineSchema);
  if (!validate(doctrineData)) {
    throw new TsplayError({
      code: 'doctrine/bad-table',
      severity: 'error',
      file: 'schemas/doctrine.json',
      message: `the doctrine table is invalid: ${validate.errors?.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`,
    });
  }
  cached = doctrineData as unknown as Doctrine;
  return cached;
}
