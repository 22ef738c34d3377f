import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../shared/platform/errors.js";
import { decodeCursor, encodeCursor } from "../../shared/threads/cursor.js";

describe("thread cursors", () => {
  it("round-trips a position to the millisecond", () => {
    const cursor = {
      direction: "previous" as const,
      createdAt: new Date("2026-01-02T03:04:05.678Z"),
      id: "8f2b7a58-3f6e-4c55-9b1d-0b8f4f6e2a11",
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    "",
    "garbage",
    Buffer.from("x|1|y").toString("base64url"),
    Buffer.from("n|abc|8f2b7a58-3f6e-4c55-9b1d-0b8f4f6e2a11").toString("base64url"),
  ])("rejects %j with a 400-class error", (value) => {
    expect(() => decodeCursor(value)).toThrow(InvalidInputError);
  });
});
