import { describe, expect, it } from "vitest";
import { externalError, isWeirError, userError } from "../../common/errors.ts";
import { deserializeError, serializeError } from "./protocol.ts";

/** What crossing a thread does to a message: a structured clone. */
const acrossThreads = <T>(value: T): T => structuredClone(value);

describe("errors across threads", () => {
  it("a WeirError keeps its code, domain, retriability, operator and job file (a user error is still not retried)", () => {
    const thrown = userError("BAD_RECORD", "record 3 of split s-1 is not JSON", { operator: "parse", jobFile: "jobs/x.ts" });
    const back = deserializeError(acrossThreads(serializeError(thrown)));
    expect(isWeirError(back)).toBe(true);
    expect(back).toMatchObject({ code: "BAD_RECORD", domain: "user", retriable: false, operator: "parse", jobFile: "jobs/x.ts", message: thrown.message });
    expect(back.stack).toBe(thrown.stack);
    const retriable = deserializeError(acrossThreads(serializeError(externalError("BROKER_DOWN", "no broker"))));
    expect(retriable).toMatchObject({ code: "BROKER_DOWN", domain: "external", retriable: true });
  });

  it("another error keeps its message and stack; a thrown non-error becomes an Error", () => {
    const back = deserializeError(acrossThreads(serializeError(new TypeError("x is undefined"))));
    expect(isWeirError(back)).toBe(false);
    expect(back.message).toBe("x is undefined");
    expect(back.stack).toMatch(/TypeError: x is undefined/);
    expect(deserializeError(acrossThreads(serializeError("just a string"))).message).toBe("just a string");
  });
});
