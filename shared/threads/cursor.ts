import { isStorableDate } from "../db/values.js";
import { InvalidInputError } from "../platform/errors.js";

/** A position in the newest-first order: the thread at the page edge and the way the page goes. */
export interface Cursor {
  direction: "next" | "previous";
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(cursor: Cursor): string {
  const raw = `${cursor.direction === "next" ? "n" : "p"}|${cursor.createdAt.getTime()}|${cursor.id}`;
  return Buffer.from(raw).toString("base64url");
}

export function decodeCursor(value: string): Cursor {
  const [dir, millis, id, ...rest] = Buffer.from(value, "base64url").toString("utf8").split("|");
  const time = Number(millis);
  const valid = Number.isSafeInteger(time) && isStorableDate(new Date(time));
  if (rest.length > 0 || (dir !== "n" && dir !== "p") || !valid || !id || !UUID.test(id)) {
    throw new InvalidInputError("Invalid cursor: use the next or previous link of a threads page");
  }
  return { direction: dir === "n" ? "next" : "previous", createdAt: new Date(time), id };
}
