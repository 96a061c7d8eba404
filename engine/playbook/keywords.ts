/** Task keywords (everything on a task that is not its module). */
export const TASK_KEYWORDS = [
  'name',
  'when',
  'register',
  'loop',
  'loop_control',
  'until',
  'retries',
  'delay',
  'ignore_errors',
  'changed_when',
  'failed_when',
  'notify',
  'listen',
  'tags',
  'run_once',
  'delegate_to',
  'environment',
  'timeout',
  'no_log',
  'vars',
  'build',
  'experimental',
] as const;

export const PLAY_KEYWORDS = ['name', 'hosts', 'vars', 'tasks', 'handlers', 'tags', 'any_errors_fatal', 'gather_facts', 'environment', 'experimental'] as const;

/** Ansible keywords tsplay deliberately does not have, with what to do instead. */
export const UNSUPPORTED_HINTS: Record<string, string> = {
  become: 'tsplay connects as the inventory `user` and has no privilege escalation; connect as the user the task needs',
  become_user: 'tsplay connects as the inventory `user` and has no privilege escalation; connect as the user the task needs',
  with_items: 'use `loop:` (with_* lookups are not supported)',
  with_list: 'use `loop:`',
  block: 'blocks are not supported; list the tasks directly and use `when:` on each',
  include_tasks: 'includes are not supported; keep the tasks in the playbook',
  import_tasks: 'imports are not supported; keep the tasks in the playbook',
  import_playbook: 'pass several playbooks on the command line instead: tsplay run a.yml b.yml',
  async: 'async tasks are not supported; use `timeout:`',
  local_action: 'use `delegate_to: localhost`',
  args: 'put the arguments under the module key',
};

/** Normalises `ansible.builtin.set_fact` / `set_fact` / `set-fact` to the canonical name. */
export function canonicalModuleName(key: string): string {
  return key.replace(/^(ansible\.builtin|ansible\.legacy|tsplay)\./, '').replace(/_/g, '-');
}
