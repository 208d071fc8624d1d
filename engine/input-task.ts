/**
 * A subtask fed by input channels: takes elements from its gate, processes batches, aligns
 * checkpoint barriers across its inputs (checkpoint/alignment.ts), and, once every input has
 * ended, ends its chain's input and is finished.
 */
import { onBarrier, onChannelEnd, initialAlignment, type AlignmentAction, type AlignmentState } from "../checkpoint/alignment.ts";
import { failpoint } from "../common/failpoints.ts";
import { barrier } from "./elements.ts";
import type { InputGate } from "./input-gate.ts";
import { Subtask, type SubtaskOptions } from "./subtask.ts";

export interface InputTaskOptions extends SubtaskOptions {
  readonly gate: InputGate<unknown>;
  readonly onFinished: () => void;
}

export class InputTask extends Subtask {
  private readonly gate: InputGate<unknown>;
  private readonly onFinished: () => void;
  private alignment: AlignmentState = initialAlignment();
  private readonly open: Set<number>;

  constructor(options: InputTaskOptions) {
    super(options);
    this.gate = options.gate;
    this.onFinished = options.onFinished;
    this.open = new Set(Array.from({ length: options.gate.channelCount }, (_, c) => c));
  }

  private async apply(actions: readonly AlignmentAction[]): Promise<void> {
    for (const action of actions) {
      switch (action.kind) {
        case "block":
          this.gate.block(action.channel);
          failpoint("alignment");
          break;
        case "unblock-all":
          this.gate.unblockAll();
          break;
        case "abandon":
          break;
        case "snapshot": {
          const asyncPart = await this.snapshotSync(action.id);
          const forwarded = this.chain.broadcast(barrier(action.id, this.bridge.triggeredAt(action.id)));
          if (forwarded !== undefined) await forwarded;
          this.finishSnapshot(action.id, asyncPart);
          break;
        }
      }
    }
  }

  async run(): Promise<void> {
    await this.chain.open();
    while (this.open.size > 0) {
      let next = this.gate.take();
      if (next instanceof Promise) next = await next;
      const element = next.element;
      switch (element.kind) {
        case "batch": {
          const pending = this.chain.process(element.records);
          if (pending !== undefined) await pending;
          break;
        }
        case "barrier": {
          const result = onBarrier(this.alignment, next.channel, element.checkpointId, this.open);
          this.alignment = result.state;
          await this.apply(result.actions);
          break;
        }
        case "end": {
          this.gate.finish(next.channel);
          this.open.delete(next.channel);
          const result = onChannelEnd(this.alignment, this.open);
          this.alignment = result.state;
          await this.apply(result.actions);
          break;
        }
        case "watermark":
          break;
      }
    }
    await this.chain.endInput();
    await this.markFinished();
    this.onFinished();
  }
}
