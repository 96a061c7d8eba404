import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  appendKnownHost,
  entryMatchesHost,
  fingerprint,
  keyTypeOf,
  knownHostName,
  parseKnownHosts,
  readKnownHosts,
  verifyHostKey,
} from '../../engine/transport/known-hosts.js';
import { keygen } from '../helpers/sshd.js';

let dir: string;
let keyA: Buffer;
let keyB: Buffer;
let lineA: string; // "ssh-ed25519 AAAA..."
let lineB: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-kh-'));
  lineA = keygen(path.join(dir, 'a'));
  lineB = keygen(path.join(dir, 'b'));
  keyA = Buffer.from(lineA.split(' ')[1]!, 'base64');
  keyB = Buffer.from(lineB.split(' ')[1]!, 'base64');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('knownHostName uses [host]:port for non-22 ports', () => {
  expect(knownHostName('web1')).toBe('web1');
  expect(knownHostName('web1', 22)).toBe('web1');
  expect(knownHostName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
});

test('parses entries, skips comments, blank, malformed and unknown-marker lines', () => {
  const text = [
    '# a comment',
    '',
    `web1,10.0.0.5 ${lineA} comment here`,
    `@revoked * ${lineB}`,
    `@cert-authority *.example.com ${lineB}`,
    '@bogus web2 ssh-ed25519 AAAA',
    'too-few-fields ssh-ed25519',
    'web3 ssh-ed25519 not*base64',
    `   [db]:2222 ${lineB}   `,
  ].join('\n');
  const entries = parseKnownHosts(text);
  expect(entries.map((e) => [e.line, e.marker, e.hosts])).toEqual([
    [3, undefined, 'web1,10.0.0.5'],
    [4, 'revoked', '*'],
    [5, 'cert-authority', '*.example.com'],
    [9, undefined, '[db]:2222'],
  ]);
  expect(entries[0]!.key.equals(keyA)).toBe(true);
});

test('host patterns: lists, wildcards, negation, case, ports', () => {
  const e = (hosts: string) => parseKnownHosts(`${hosts} ${lineA}`)[0]!;
  expect(entryMatchesHost(e('web1,web2'), 'web2')).toBe(true);
  expect(entryMatchesHost(e('web1,web2'), 'web3')).toBe(false);
  expect(entryMatchesHost(e('*.example.com'), 'a.example.com')).toBe(true);
  expect(entryMatchesHost(e('*.example.com'), 'example.com')).toBe(false);
  expect(entryMatchesHost(e('web?'), 'web7')).toBe(true);
  expect(entryMatchesHost(e('web?'), 'web77')).toBe(false);
  expect(entryMatchesHost(e('*.example.com,!secret.example.com'), 'secret.example.com')).toBe(false);
  expect(entryMatchesHost(e('WEB1'), 'web1')).toBe(true);
  expect(entryMatchesHost(e('[web1]:2222'), '[web1]:2222')).toBe(true);
  expect(entryMatchesHost(e('web1'), '[web1]:2222')).toBe(false);
  expect(entryMatchesHost(e('[web1]:2222'), 'web1')).toBe(false);
});

test('hashed entries written by ssh-keygen -H match the right name only', () => {
  const file = path.join(dir, 'hashed');
  writeFileSync(file, `[127.0.0.1]:2200 ${lineA}\nweb1 ${lineB}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
  const entries = parseKnownHosts(readFileSync(file, 'utf8'));
  expect(entries).toHaveLength(2);
  expect(entries.every((x) => x.hosts.startsWith('|1|'))).toBe(true);
  expect(verifyHostKey(entries, '[127.0.0.1]:2200', keyA).status).toBe('match');
  expect(verifyHostKey(entries, 'web1', keyB).status).toBe('match');
  expect(verifyHostKey(entries, '[127.0.0.1]:2201', keyA).status).toBe('unknown');
  expect(verifyHostKey(entries, 'web2', keyB).status).toBe('unknown');
});

test('verdicts: match, changed (with the line), unknown, revoked; cert-authority ignored', () => {
  const entries = parseKnownHosts(
    [`web1 ${lineA}`, `@cert-authority * ${lineB}`, `@revoked web9 ${lineA}`, `web9 ${lineA}`].join('\n'),
  );
  expect(verifyHostKey(entries, 'web1', keyA)).toMatchObject({ status: 'match', entry: { line: 1 } });
  const changed = verifyHostKey(entries, 'web1', keyB);
  expect(changed.status).toBe('changed');
  expect(changed.status === 'changed' && changed.entries.map((x) => x.line)).toEqual([1]);
  expect(verifyHostKey(entries, 'web2', keyB).status).toBe('unknown');
  expect(verifyHostKey(entries, 'web9', keyA)).toMatchObject({ status: 'revoked', entry: { line: 3 } });
});

test('a host known only with another key type is unknown (not changed) for the new type', () => {
  const rsa = keygen(path.join(dir, 'rsa'), 'rsa');
  const entries = parseKnownHosts(`web1 ${rsa}`);
  expect(verifyHostKey(entries, 'web1', keyA)).toEqual({ status: 'unknown', otherTypes: ['ssh-rsa'] });
});

test('fingerprint and key type agree with ssh-keygen', () => {
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'a.pub')], { encoding: 'utf8' });
  expect(printed.split(' ')[1]).toBe(fingerprint(keyA));
  expect(keyTypeOf(keyA)).toBe('ssh-ed25519');
  expect(keyTypeOf(Buffer.alloc(2))).toBe('unknown');
});

test('appendKnownHost creates the file 0600, adds a missing newline, never duplicates', async () => {
  const file = path.join(dir, 'sub', 'known_hosts');
  await appendKnownHost(file, '[h]:2222', keyA);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  await appendKnownHost(file, '[h]:2222', keyA);
  await Promise.all([appendKnownHost(file, 'h2', keyB), appendKnownHost(file, 'h2', keyB)]);
  expect(readFileSync(file, 'utf8')).toBe(`[h]:2222 ${lineA}\nh2 ${lineB}\n`);

  const noNewline = path.join(dir, 'no-newline');
  writeFileSync(noNewline, `web1 ${lineB}`);
  await appendKnownHost(noNewline, 'web2', keyA);
  expect(readFileSync(noNewline, 'utf8')).toBe(`web1 ${lineB}\nweb2 ${lineA}\n`);
});

describe('readKnownHosts: parsed once per version of the file', () => {
  test('an unchanged file gives every caller the same frozen entries, concurrent callers included', async () => {
    const file = path.join(dir, 'shared_known_hosts');
    writeFileSync(file, `web1 ${lineA}\nweb2 ${lineB}\n`);
    const [a, b] = await Promise.all([readKnownHosts(file), readKnownHosts(file)]);
    const c = await readKnownHosts(file);
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(Object.isFrozen(a) && a.every((e) => Object.isFrozen(e))).toBe(true);
    expect(a.map((e) => e.hosts)).toEqual(['web1', 'web2']);
  });

  test('an edit is seen by the next call: an append, a rewrite of the same size, a removal', async () => {
    const file = path.join(dir, 'edited_known_hosts');
    writeFileSync(file, `web1 ${lineA}\n`);
    const first = await readKnownHosts(file);
    expect(verifyHostKey(first, 'web1', keyA).status).toBe('match');
    await appendKnownHost(file, 'web2', keyB);
    expect((await readKnownHosts(file)).map((e) => e.hosts)).toEqual(['web1', 'web2']);
    // The same number of bytes, another key for web1 (what ssh-keygen -R and a re-add could leave).
    writeFileSync(file, `web1 ${lineB}\nweb2 ${lineA}\n`);
    const rewritten = await readKnownHosts(file);
    expect(verifyHostKey(rewritten, 'web1', keyA).status).toBe('changed');
    rmSync(file);
    expect(await readKnownHosts(file)).toEqual([]);
  });
});
