import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { checkDeployable } from "../../infra/settings.js";
import { asArray, mentions, only, props, ref, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, idOf, fnId, resourcesOf, envOf, roleIdOf, statementsOfRole } = synth();
const { reports } = stack;
const senderId = fnId(reports.sender);
const setId = idOf(reports.configurationSet);

// Assess -------------------------------------------------------------------------------------

describe("report email", () => {
  it("goes out under a configuration set that suppresses addresses that bounced or complained", () => {
    const set = props(only(resourcesOf("AWS::SES::ConfigurationSet").values(), "configuration set"));
    expect(set.SuppressionOptions).toEqual({ SuppressedReasons: ["BOUNCE", "COMPLAINT"] });
    expect(envOf(senderId).SES_CONFIGURATION_SET).toEqual(ref(setId));
  });

  it("publishes bounce and complaint events to the default EventBridge bus", () => {
    const destination = props(
      only(resourcesOf("AWS::SES::ConfigurationSetEventDestination").values(), "event destination"),
    );
    expect(destination.ConfigurationSetName).toEqual(ref(setId));
    const config = destination.EventDestination as {
      MatchingEventTypes: string[];
      EventBridgeDestination: { EventBusArn: unknown };
      Enabled?: boolean;
    };
    expect([...config.MatchingEventTypes].sort()).toEqual(["bounce", "complaint"]);
    expect(JSON.stringify(config.EventBridgeDestination.EventBusArn)).toContain("event-bus/default");
  });

  it("lets the sender send with that configuration set only", () => {
    const statements = statementsOfRole(roleIdOf(senderId));
    const onSet = statements.filter(
      (s) => asArray(s.Action).includes("ses:SendEmail") && JSON.stringify(s.Resource).includes("configuration-set/"),
    );
    expect(onSet).toHaveLength(1);
    expect(mentions(onSet[0]?.Resource, setId)).toBe(true);
  });

  it("is paced: each of the sender's concurrent environments gets its share of kapa:sesMaxSendRate", () => {
    // The default is the SES sandbox's 1 email per second, over the sender's 2 environments.
    expect(envOf(senderId).SES_MAX_SEND_RATE).toBe("0.5");
    const custom = synth({ "kapa:sesMaxSendRate": 14 });
    expect(custom.envOf(custom.fnId(custom.stack.reports.sender)).SES_MAX_SEND_RATE).toBe("7");
    expect(() => synth({ "kapa:sesMaxSendRate": 0 })).toThrow(/kapa:sesMaxSendRate/);
  });
});

describe("a deployable synth (infra/app.ts)", () => {
  const check = (context: Record<string, unknown>) => () => checkDeployable(new App({ context }).node);

  it("fails with a clear message when no report sender is configured, or only a placeholder", () => {
    expect(check({})).toThrow(/No report sender is configured.*-c kapa:reportSender=reports@your-domain.com/);
    expect(check({ "kapa:reportSender": "reports@example.com" })).toThrow(/No report sender/);
    expect(check({ "kapa:reportSender": "reports@kapa.local" })).toThrow(/No report sender/);
  });

  it("passes with a real one, while the local runtime and the tests keep the stack's default", () => {
    expect(check({ "kapa:reportSender": "reports@acme.io" })).not.toThrow();
    expect(envOf(senderId).REPORT_SENDER).toBe("reports@example.com");
  });
});
