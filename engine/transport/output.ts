import { StringDecoder } from 'node:string_decoder';
import { constants } from 'node:os';
import type { ExecResult } from './transport.js';

/** Collects a byte stream as UTF-8 text (multi-byte characters split across chunks stay whole). */
export class OutputCollector {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parts: string[] = [];

  constructor(private readonly onChunk?: (chunk: string) => void) {}

  push(chunk: Buffer): void {
    this.emit(this.decoder.write(chunk));
  }

  /** Flushes any incomplete character and returns everything collected. */
  text(): string {
    this.emit(this.decoder.end());
    return this.parts.join('');
  }

  private emit(s: string): void {
    if (s === '') return;
    this.parts.push(s);
    this.onChunk?.(s);
  }
}

/** 128+n for a signal name such as `SIGTERM`. */
export function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[signal];
  return 128 + (n ?? 0);
}

export function stoppedResult(reason: 'timeout' | 'abort', stdout: string, stderr: string): ExecResult {
  return reason === 'timeout'
    ? { rc: 124, stdout, stderr, timedOut: true }
    : { rc: 130, stdout, stderr, aborted: true };
}
