import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The project root (tests run from dist/tests/...). */
export const ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
/** The CLI as operators start it (package.json `bin`): the launcher that uses the start-up snapshot. */
export const TSPLAY = path.join(ROOT, 'bin', 'tsplay');
/** The JavaScript launcher, which loads the bundle (what bin/tsplay falls back to). */
export const TSPLAY_JS = path.join(ROOT, 'bin', 'tsplay.js');
export const FIXTURES = path.join(ROOT, 'tests', 'fixtures');
