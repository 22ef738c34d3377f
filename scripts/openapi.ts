// `npm run openapi [-- OUT]`: writes the OpenAPI document generated from the route table
// (default build/openapi.json), for Redocly lint and the generated client in CI.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { openApiDocument } from "../shared/http/openapi.js";

const out = process.argv[2] ?? "build/openapi.json";
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
process.stdout.write(`${out}\n`);
