import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: ["./shared/db/schema.ts", "./shared/db/webhook-schema.ts", "./shared/db/example-schema.ts"],
  out: "./drizzle",
});
