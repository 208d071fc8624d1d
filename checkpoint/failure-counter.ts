/**
 * Counts consecutive failed checkpoints (Flink's CheckpointFailureManager, kept small). A
 * completed checkpoint resets the count; more than `tolerable` failures in a row fails the job
 * (default: tolerate any number, the job keeps running).
 */
export interface FailureCounter {
  readonly consecutive: number;
  readonly exceeded: boolean;
}

export const noFailures: FailureCounter = { consecutive: 0, exceeded: false };

export const countFailure = (counter: FailureCounter, tolerable: number): FailureCounter => {
  const consecutive = counter.consecutive + 1;
  return { consecutive, exceeded: consecutive > tolerable };
};

export const countSuccess = (): FailureCounter => noFailures;
