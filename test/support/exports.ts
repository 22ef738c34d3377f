import { startTestWorld, type TestWorld } from "./world.js";

/**
 * The local world's export worker on its queue and bucket, for one test file. The API runs in the
 * test's process (startTestGateway) with export-start's and export-status's variables in the
 * world: it queues to the world's export queue and reads the world's bucket, as in AWS.
 */
export async function startTestExportWorld(): Promise<TestWorld & { bucket: string }> {
  const world = await startTestWorld({
    label: "exports",
    consumers: ["export-worker"],
    // Nothing here is meant to come back; a redelivery must not wait the template's 90 minutes.
    deviations: { visibilityTimeoutSeconds: 30 },
  });
  world.actAs("export-start");
  world.actAs("export-status");
  const [bucket] = world.world.buckets.values();
  if (!bucket) throw new Error("The template has no export bucket");
  return Object.assign(world, { bucket });
}
