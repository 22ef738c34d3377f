import * as z from "zod";

/**
 * A number in a query string, strictly: a string of the given form, then the bounds. Not
 * z.coerce: Number() reads "" as 0, "0x10" as 16 and ignores spaces. The document shows it as the
 * number it is (keeping a description given here).
 */
function numericParam(
  form: { pattern: RegExp; message: string },
  bounds: { min: number; max: number; below: string; above: string },
  document: { type: "integer" | "number"; default?: number },
) {
  return z
    .string()
    .regex(form.pattern, { message: form.message })
    .transform(Number)
    .pipe(z.number().min(bounds.min, { message: bounds.below }).max(bounds.max, { message: bounds.above }))
    .meta({
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        for (const key of Object.keys(jsonSchema)) if (key !== "description") delete jsonSchema[key];
        Object.assign(jsonSchema, { type: document.type, minimum: bounds.min, maximum: bounds.max }, document);
      },
    });
}

export const intParam = (name: string, min: number, max: number, byDefault: number) =>
  numericParam(
    { pattern: /^\d+$/, message: `${name} must be a whole number between ${min} and ${max}` },
    { min, max, below: `${name} must be at least ${min}`, above: `${name} must be at most ${max}` },
    { type: "integer", default: byDefault },
  );

/** A decimal such as 0.5, .5 or 5e-1. */
export const decimalParam = (name: string, min: number, max: number) => {
  const between = `${name} must be between ${min} and ${max}`;
  return numericParam(
    { pattern: /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/, message: `${name} must be a number between ${min} and ${max}` },
    { min, max, below: between, above: between },
    { type: "number" },
  );
};
