/**
 * A strict RFC 4180 reader for the tests, written apart from the exporter's writer: records end
 * with CRLF, fields with a quote, comma or line break are quoted, quotes inside are doubled.
 * Throws on anything else (a bare quote, a lone LF between records, a missing final CRLF).
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let i = 0;
  const endField = () => {
    record.push(field);
    field = "";
  };
  while (i < text.length) {
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error("unterminated quoted field");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i];
        i++;
      }
    }
    const c = text[i];
    if (c === ",") {
      endField();
      i++;
    } else if (c === "\r" && text[i + 1] === "\n") {
      endField();
      records.push(record);
      record = [];
      i += 2;
    } else if (c === '"' || c === "\r" || c === "\n") {
      throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
    } else if (c !== undefined) {
      field += c;
      i++;
    }
  }
  if (field !== "" || record.length > 0) throw new Error("the last record does not end with CRLF");
  return records;
}
