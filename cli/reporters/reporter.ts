import type { EngineEvent } from '../../engine/events.js';

/** Reporters subscribe to the engine's event stream; they are the only code that prints a run. */
export interface Reporter {
  onEvent(event: EngineEvent): void;
  /** Called once after run.end (or on interruption) to flush and tear down. */
  finish(): Promise<void>;
}

export interface ReporterOptions {
  verbose: number;
  out: NodeJS.WritableStream;
}
