import { afterAll, expect } from "vitest";
import { checkResponse, takeRecorded } from "./openapi-recorder.js";

// Each test file's recorded responses are checked against the OpenAPI document when it ends.
afterAll(() => {
  const responses = takeRecorded();
  const problems = responses.flatMap(checkResponse);
  expect(problems, `${problems.length} of ${responses.length} responses do not match the OpenAPI document`).toEqual([]);
});
