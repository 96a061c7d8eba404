import { randomBytes } from 'node:crypto';

/** Run ids start with the UTC time, so sorting them sorts runs by when they started. */
export function newRunId(): string {
  const d = new Date();
  const stamp = d.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
