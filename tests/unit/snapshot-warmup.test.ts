/**
 * The start-up snapshot's warm-up run (cli/snapshot-warmup.ts): the playbook it runs is valid,
 * runs to the end on every host of the example inventory through the remote-shell framing, and
 * leaves nothing behind. A warm-up that broke would only make every start slower, silently, so it
 * is checked here rather than trusted.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { warmRun } from '../../cli/snapshot-warmup.js';
import { ROOT } from '../helpers/paths.js';

test('the warm-up playbook runs ok on the example inventory and leaves no temporary folder', async () => {
  const before = readdirSync(os.tmpdir()).filter((f) => f.startsWith('tsplay-snapshot-warmup-'));
  await expect(warmRun(path.join(ROOT, 'inventory', 'hosts.yml'))).resolves.toBe('ok');
  expect(readdirSync(os.tmpdir()).filter((f) => f.startsWith('tsplay-snapshot-warmup-'))).toEqual(before);
});
