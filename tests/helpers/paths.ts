import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The project root (tests run from dist/tests/...). */
export const ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
/** The CLI launcher. */
export const TSPLAY = path.join(ROOT, 'bin', 'tsplay.js');
export const FIXTURES = path.join(ROOT, 'tests', 'fixtures');
