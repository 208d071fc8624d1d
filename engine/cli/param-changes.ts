/**
 * How the parameters of this `weir run` differ from those recorded in a checkpoint (the run that
 * took it). Checkpoints written before parameters were recorded have none: no difference is
 * reported for them.
 */

/** `key=new (was old)` per changed, added (`was not set`) or removed (`not set, was old`) parameter, by key. */
export const paramChanges = (
  recorded: Readonly<Record<string, string>> | undefined,
  current: Readonly<Record<string, string>>,
): string[] => {
  if (recorded === undefined) return [];
  const keys = [...new Set([...Object.keys(recorded), ...Object.keys(current)])].sort();
  const changes: string[] = [];
  for (const key of keys) {
    const was = recorded[key];
    const now = current[key];
    if (was === now) continue;
    if (now === undefined) changes.push(`${key} not set (was ${was})`);
    else changes.push(`${key}=${now} (was ${was === undefined ? "not set" : was})`);
  }
  return changes;
};
