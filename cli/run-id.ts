import { randomBytes } from 'node:crypto';

/**
 * Run ids start with the UTC time to the millisecond (`20250301-141502.318-9c1e4a`), so sorting
 * them sorts runs by when they started, even runs started within the same second.
 */
export function newRunId(): string {
  const d = new Date();
  const stamp = d.toISOString().replace(/[-:]/g, '').replace(/Z$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
