/** A TaskContext for calling a module's run() directly, over a real transport (LocalTransport on this machine). */
import { loadDoctrine } from '../../engine/doctrine/load.js';
import type { TaskContext } from '../../engine/module-types.js';
import { LocalTransport } from '../../engine/transport/index.js';
import type { Transport } from '../../engine/transport/transport.js';

export interface ContextRecord {
  decisions: string[];
  reconnects: number;
}

export function moduleContext(over: Partial<TaskContext> = {}, transport: Transport = new LocalTransport({ host: 'local' })): TaskContext & { record: ContextRecord } {
  const record: ContextRecord = { decisions: [], reconnects: 0 };
  const doctrine = loadDoctrine();
  return {
    host: { name: transport.host, hardwareClass: 'x86_64', vars: {} },
    forHost: transport.host,
    transport,
    check: false,
    diff: false,
    vars: {},
    doctrine: doctrine.classes['x86_64'],
    environment: {},
    signal: new AbortController().signal,
    output: () => undefined,
    decision: (m) => record.decisions.push(m),
    controller: new LocalTransport(),
    playbookDir: process.cwd(),
    reconnect: () => {
      record.reconnects++;
    },
    ...over,
    record,
  };
}
