import { describe, expect, it } from "vitest";
import { formatAccess } from "../../local/access-log.js";

describe("local access log", () => {
  it("prints one readable line per request, ids shortened", () => {
    const entry = {
      method: "POST",
      path: "/query/v1/projects/3f1c2a9e-5b7d-4c8e-9f0a-1b2c3d4e5f60/chat",
      status: 200,
      ms: 52.4,
      requestId: "r-1",
    };
    expect(formatAccess(entry, (t) => t)).toBe("POST /query/v1/projects/3f1c2a9e…/chat 200 52 ms");
    expect(formatAccess({ ...entry, status: 503 }, (t) => `<${t}>`)).toBe(
      "POST /query/v1/projects/3f1c2a9e…/chat <503> 52 ms",
    );
  });
});
