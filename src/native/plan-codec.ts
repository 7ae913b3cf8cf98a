/**
 * The wire format of a plan sent to bento-shim: records of string fields, each field
 * "<byte length>:<bytes>," and each record "<field count>:" + fields, the whole prefixed by
 * "<byte length>\n". Values may hold any byte, so env values with newlines pass unharmed.
 */

/** One record: an op name or section marker, then its arguments. */
export type PlanRecord = readonly string[];

/** Encodes records into the framed message bento-shim reads from its control socket. */
export function encodePlan(records: readonly PlanRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const record of records) {
    parts.push(Buffer.from(`${record.length}:`));
    for (const field of record) {
      const bytes = Buffer.from(field, "utf8");
      parts.push(Buffer.from(`${bytes.length}:`), bytes, Buffer.from(","));
    }
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}
