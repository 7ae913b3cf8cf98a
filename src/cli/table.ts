/**
 * Human output of the bento CLI: aligned tables as `docker ps` prints them, sizes, ages, short ids.
 */

/**
 * Formats rows under headers, each column as wide as its widest cell, columns three spaces
 * apart; the last column is not padded. Returns the lines with a trailing newline.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    headers
      .map((_, i) => (i === headers.length - 1 ? (cells[i] ?? "") : (cells[i] ?? "").padEnd(widths[i]!)))
      .join("   ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join("");
}

/** A size in decimal units as docker prints them: "0B", "512B", "7.8MB", "1.23GB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)}B`;
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${Number(value.toFixed(digits))}${units[unit]}`;
}

/**
 * How long ago `date` was, in the words of docker's `units.HumanDuration`: "Less than a second
 * ago", "5 seconds ago", "About a minute ago", "3 hours ago", "2 weeks ago".
 */
export function formatAgo(date: Date | undefined, now: Date = new Date()): string {
  if (date === undefined || Number.isNaN(date.getTime())) return "-";
  return `${humanDuration(Math.max(0, now.getTime() - date.getTime()) / 1000)} ago`;
}

function humanDuration(seconds: number): string {
  const minutes = seconds / 60,
    hours = minutes / 60,
    days = hours / 24;
  if (seconds < 1) return "Less than a second";
  if (Math.floor(seconds) === 1) return "1 second";
  if (seconds < 60) return `${Math.floor(seconds)} seconds`;
  if (Math.floor(minutes) === 1) return "About a minute";
  if (minutes < 60) return `${Math.floor(minutes)} minutes`;
  if (Math.round(hours) === 1) return "About an hour";
  if (hours < 48) return `${Math.round(hours)} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(days)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(days / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(days / 30)} months`;
  return `${Math.floor(days / 365)} years`;
}

/** The first 12 hex digits of an id, without its `sha256:` prefix. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}
