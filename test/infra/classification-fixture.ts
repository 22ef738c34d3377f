import type { Template } from "aws-cdk-lib/assertions";
import { expect } from "vitest";
import { asArray, mentions, only, props, resourcesIn, type Statement, synth } from "./support.js";

/**
 * The logical ids and policies the classification tests check, on the default stack; the tests take
 * it and its template helpers from synth(), and these as `fixture.<name>`.
 */

/** The API handlers that enqueue thread ids (the contract), and nothing else of the API. */
export const SENDER_HANDLERS = ["chat", "update-thread"];

const { stack, idOf, fnId, resourcesOf, roleIdOf, identityStatements } = synth();
export const classification = stack.classification;

export const queueId = idOf(classification.liveQueue);
export const dlqId = idOf(classification.deadLetterQueue);
export const classifierId = fnId(classification.classifier);
export const sweeperId = fnId(classification.sweeper);
export const handlerIds = new Map([...stack.api.handlers].map(([name, fn]) => [name, fnId(fn)]));
export const handlerId = (name: string) => {
  const id = handlerIds.get(name);
  if (!id) throw new Error(`No API function for handler ${name}`);
  return id;
};
export const senderIds = [...SENDER_HANDLERS.map(handlerId), sweeperId].sort();

export const functions = resourcesOf("AWS::Lambda::Function");
export const queues = resourcesOf("AWS::SQS::Queue");
export const allMappings = resourcesOf("AWS::Lambda::EventSourceMapping");
/** The classifier's event source mappings (the reports' sender has its own). */
export const mappings = new Map([...allMappings].filter(([, m]) => mentions(props(m).FunctionName, classifierId)));
/** The schedule that invokes `fnId` (the reports have their own schedule). */
export const scheduleOf = (t: Template, fnId: string) =>
  props(
    only(
      [...resourcesIn(t, "AWS::Scheduler::Schedule").values()].filter((s) => mentions(props(s).Target, fnId)),
      "schedule",
    ),
  );
export const fnProps = (id: string) => props(functions.get(id));

/** An IAM action pattern (`sqs:Send*`, `*`) as a regular expression. */
export const actionPattern = (action: string) =>
  new RegExp(`^${action.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`, "i");
export const allows = (statement: Statement, action: string) =>
  statement.Effect === "Allow" && asArray(statement.Action).some((a) => actionPattern(a).test(action));
/** Does the statement's Resource cover this resource (by reference or by wildcard)? */
export const covers = (statement: Statement, id: string) =>
  asArray(statement.Resource).some((r) => r === "*" || mentions(r, id) || (typeof r === "string" && r.includes("*")));

/** The functions whose roles may perform `action` on the resource `id`. */
export function functionsAllowed(action: string, id: string): string[] {
  const roles = new Set(
    identityStatements()
      .filter(({ statement }) => allows(statement, action) && covers(statement, id))
      .flatMap(({ roles }) => roles),
  );
  const fnIds = [...functions.keys()].filter((fnId) => roles.has(roleIdOf(fnId)));
  const otherRoles = [...roles].filter((r) => !fnIds.some((fnId) => roleIdOf(fnId) === r));
  expect(otherRoles, `roles of no function allowed ${action}`).toEqual([]);
  return fnIds.sort();
}
