/**
 * Barrier alignment for a task with several input channels, as explicit states and a pure
 * transition function (the task's loop carries out the actions).
 *
 * - `waiting`: no checkpoint in progress. The first barrier n blocks its channel and moves to
 *   `collecting n` (or snapshots at once if no other channel is still open).
 * - `collecting n`: channels that delivered barrier n are blocked (their later records wait in
 *   the channel). When every open channel has delivered n (a channel that has ended counts as
 *   delivered: it will send nothing more), the task snapshots n and unblocks all.
 * - A barrier newer than n (checkpoint n was aborted upstream) abandons n: every channel is
 *   unblocked and the newer one is collected from scratch. A barrier older than the last one
 *   seen is stale and ignored.
 *
 * So the records a task has processed before snapshot n are exactly those before barrier n on
 * each input (property-tested with the real InputTask: engine/input-task.test.ts).
 */
export type AlignmentState =
  | { readonly kind: "waiting"; readonly lastId: number }
  | { readonly kind: "collecting"; readonly id: number; readonly received: ReadonlySet<number> };

export type AlignmentAction =
  | { readonly kind: "block"; readonly channel: number }
  | { readonly kind: "snapshot"; readonly id: number }
  | { readonly kind: "unblock-all" };

export interface AlignmentResult {
  readonly state: AlignmentState;
  readonly actions: readonly AlignmentAction[];
}

export const initialAlignment = (lastId = 0): AlignmentState => ({ kind: "waiting", lastId });

const complete = (id: number, extra: AlignmentAction[] = []): AlignmentResult => ({
  state: { kind: "waiting", lastId: id },
  actions: [...extra, { kind: "snapshot", id }, { kind: "unblock-all" }],
});

const allIn = (received: ReadonlySet<number>, open: ReadonlySet<number>): boolean => {
  for (const c of open) if (!received.has(c)) return false;
  return true;
};

/** Barrier `id` arrived on `channel`; `open` is the set of channels that have not ended. */
export const onBarrier = (state: AlignmentState, channel: number, id: number, open: ReadonlySet<number>): AlignmentResult => {
  if (state.kind === "waiting") {
    if (id <= state.lastId) return { state, actions: [] };
    return start(id, channel, open, []);
  }
  if (id < state.id) return { state, actions: [] };
  if (id > state.id) return start(id, channel, open, [{ kind: "unblock-all" }]);
  if (state.received.has(channel)) return { state, actions: [] };
  const received = new Set(state.received).add(channel);
  if (allIn(received, open)) return complete(id);
  return { state: { kind: "collecting", id, received }, actions: [{ kind: "block", channel }] };
};

const start = (id: number, channel: number, open: ReadonlySet<number>, before: AlignmentAction[]): AlignmentResult => {
  const received = new Set([channel]);
  if (allIn(received, open)) return complete(id, before);
  return { state: { kind: "collecting", id, received }, actions: [...before, { kind: "block", channel }] };
};

/** `channel` ended (it is no longer in `open`): it may complete the alignment in progress. */
export const onChannelEnd = (state: AlignmentState, open: ReadonlySet<number>): AlignmentResult => {
  if (state.kind === "collecting" && allIn(state.received, open)) return complete(state.id);
  return { state, actions: [] };
};
