/**
 * `npm test`'s set-up (scripts/test-setup.mjs) installs what `.ci/run` installs: on a fresh
 * Debian machine the README's test command needs clang-format (for `npm run lint`) and
 * slirp4netns and passt too, which `.ci/run` adds with `packages+=(...)`.
 */
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The packages .ci/run installs, as bash itself reads its package lines. */
function packagesBashSees(): string[] {
  const script = `eval "$(grep -E '^packages\\+?=' .ci/run)"; printf '%s\\n' "\${packages[@]}"`;
  return execFileSync("bash", ["-c", script], { cwd: repo, encoding: "utf8" }).trim().split("\n");
}

describe("the test set-up's package list", () => {
  it("is every package .ci/run installs, the packages+= lines included", () => {
    const listed = execFileSync(process.execPath, [join(repo, "scripts/test-setup.mjs"), "--list"], { cwd: repo, encoding: "utf8" })
      .trim()
      .split("\n");
    expect(listed).toEqual(packagesBashSees());
    expect(listed).toEqual(expect.arrayContaining(["busybox-static", "clang-format", "slirp4netns", "passt"]));
  });
});
