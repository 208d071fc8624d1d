import { describe, expect, it } from "vitest";
import { ParkedCells } from "./parked-cells.ts";

describe("ParkedCells", () => {
  it("finds the newest generation's cell until its write settles, then forgets it", async () => {
    const parked = new ParkedCells<string>();
    let writeFirst = () => {};
    let writeSecond = () => {};
    const first = parked.open(1);
    parked.park(first, 0, "k", false, "k@1");
    parked.park(first, 0, "j", false, "j@1");
    parked.releaseAfter(first, new Promise<void>((r) => (writeFirst = r)));
    const second = parked.open(1);
    parked.park(second, 0, "k", false, "k@2");
    parked.park(second, 0, '["a",1]', true, "a1@2");
    parked.releaseAfter(second, new Promise<void>((r) => (writeSecond = r)));
    expect(parked.size).toBe(4);
    expect(parked.find(0, "k", false)).toBe("k@2");
    expect(parked.find(0, "j", false)).toBe("j@1");
    expect(parked.find(0, '["a",1]', true)).toBe("a1@2");
    expect(parked.find(0, '["a",1]', false)).toBeUndefined();
    writeFirst();
    await parked.oldestReleased;
    expect(parked.find(0, "j", false)).toBeUndefined();
    expect(parked.find(0, "k", false)).toBe("k@2");
    expect(parked.size).toBe(2);
    writeSecond();
    await parked.oldestReleased;
    expect(parked.empty).toBe(true);
    expect(parked.size).toBe(0);
  });

  it("drops an empty generation at once", () => {
    const parked = new ParkedCells<string>();
    parked.releaseAfter(parked.open(2), new Promise<void>(() => {}));
    expect(parked.empty).toBe(true);
  });
});
