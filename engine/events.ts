/**
 * Progress is an event stream (listr2's model). The engine emits these; reporters (listr2 on a
 * TTY, plain lines otherwise, JSON lines with --json) and the journal subscribe. The engine never
 * writes to the terminal. This is also the documented shape of `--json` output.
 */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable' | 'ignored';

export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  ignored: number;
  durationMs: number;
}

/** The registered result and facts a task set on a host, redacted; withheld entirely for no_log tasks. */
export interface TaskState {
  register?: string;
  registered?: unknown;
  facts?: Record<string, unknown>;
  withheld?: 'no_log';
}

export type EngineEvent =
  | { type: 'run.start'; time: string; runId: string; playbooks: string[]; check: boolean }
  | { type: 'stage.start'; time: string; stage: string; index: number; total: number; playbook: string }
  | { type: 'stage.end'; time: string; stage: string; index: number; total: number; outcome: 'ok' | 'failed' | 'interrupted'; durationMs: number; message?: string }
  | { type: 'play.start'; time: string; play: string; playIndex: number; hosts: string[]; playbook?: string }
  | { type: 'task.start'; time: string; play: string; task: string; taskIndex: number; module: string; hosts: string[]; handler?: boolean; taskId?: string }
  | { type: 'host.start'; time: string; task: string; taskIndex: number; host: string; item?: unknown; taskId?: string }
  | { type: 'host.output'; time: string; task: string; taskIndex: number; host: string; stream: 'stdout' | 'stderr'; text: string; taskId?: string }
  | {
      type: 'host.result';
      time: string;
      task: string;
      taskIndex: number;
      taskId?: string;
      host: string;
      status: HostStatus;
      changed: boolean;
      msg?: string;
      rc?: number;
      /** Bounded and redacted (no_log, secret variables). */
      stdout?: string;
      stderr?: string;
      command?: string;
      diff?: { path?: string; before: string; after: string };
      durationMs: number;
      attempts?: number;
      item?: unknown;
      code?: string;
      /** What the task left for later tasks (the journal keeps it so `tsplay resume` can restore it). Redacted. */
      state?: TaskState;
    }
  | { type: 'decision'; time: string; task?: string; taskIndex?: number; taskId?: string; host?: string; message: string; data?: Record<string, unknown> }
  | { type: 'task.end'; time: string; task: string; taskIndex: number }
  | { type: 'play.end'; time: string; play: string; playIndex: number }
  | { type: 'run.end'; time: string; runId: string; outcome: 'ok' | 'failed' | 'interrupted'; durationMs: number; recap: Record<string, HostRecap> };

export type EventListener = (event: EngineEvent) => void;

/** A tiny typed fan-out; listeners run synchronously in subscription order. */
export class EventBus {
  private readonly listeners: EventListener[] = [];
  on(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
  emit(event: EngineEvent): void {
    for (const l of this.listeners) l(event);
  }
}

export const now = (): string => new Date().toISOString();
