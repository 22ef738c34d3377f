import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: ["./shared/db/schema.ts", "./shared/db/webhook-schema.ts", "./shared/db/label-schema.ts"],
  out: "./drizzle",
});
