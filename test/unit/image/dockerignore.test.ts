import { describe, expect, it } from "vitest";
import { createIgnoreMatcher } from "../../../src/image/dockerignore.js";
import { DockerfileSyntaxError } from "../../../src/image/errors.js";

const ignoredOf = (text: string, paths: string[]) => {
  const matcher = createIgnoreMatcher(text);
  return paths.filter((p) => matcher(p, false));
};

describe("createIgnoreMatcher", () => {
  it("matches names at the root only, and everything under a matched directory", () => {
    expect(ignoredOf("node_modules\n", ["node_modules", "node_modules/a/b.js", "src/node_modules/x", "node_modules2"])).toEqual(["node_modules", "node_modules/a/b.js"]);
  });

  it("* and ? stay within one segment", () => {
    expect(ignoredOf("*.log\nsrc/?.ts\n", ["a.log", "dir/a.log", "src/a.ts", "src/ab.ts", "src/x/a.ts"])).toEqual(["a.log", "src/a.ts"]);
  });

  it("** crosses segments, including none", () => {
    const paths = ["a.log", "x/a.log", "x/y/z/a.log", "x/a.txt"];
    expect(ignoredOf("**/*.log\n", paths)).toEqual(["a.log", "x/a.log", "x/y/z/a.log"]);
    // As in Docker, "x/**" matches what is under x, not x itself.
    expect(ignoredOf("x/**\n", ["x", "x/a", "x/y/z", "xy"])).toEqual(["x/a", "x/y/z"]);
    expect(ignoredOf("a/**/b\n", ["a/b", "a/x/b", "a/x/y/b", "a/x/c"])).toEqual(["a/b", "a/x/b", "a/x/y/b"]);
  });

  it("! exceptions re-include, and the last matching pattern wins", () => {
    const text = "*.md\n!README.md\ndocs\n!docs/keep.md\n";
    expect(ignoredOf(text, ["a.md", "README.md", "docs/x.md", "docs/keep.md", "src/a.md"])).toEqual(["a.md", "docs/x.md"]);
    expect(ignoredOf("!README.md\n*.md\n", ["README.md"])).toEqual(["README.md"]);
  });

  it("cleans patterns and paths: leading /, trailing /, ./ and ..", () => {
    expect(ignoredOf("/build/\n./tmp\nx/../y\n", ["build/out", "tmp", "y", "x"])).toEqual(["build/out", "tmp", "y"]);
    const matcher = createIgnoreMatcher("build\n");
    expect([matcher("./build/a", false), matcher("/build", true), matcher("build/", true)]).toEqual([true, true, true]);
  });

  it("comment lines start with #; blank lines and surrounding spaces are ignored; CRLF and BOM are fine", () => {
    const matcher = createIgnoreMatcher("\uFEFF# comment\r\n\r\n  secret.txt  \r\n");
    expect(matcher("secret.txt", false)).toBe(true);
    expect(matcher("# comment", false)).toBe(false);
    expect(matcher.patterns).toEqual([{ pattern: "secret.txt", exclusion: false, line: 3 }]);
  });

  it("classes and escapes; regular-expression characters are literal", () => {
    expect(ignoredOf("file[0-9].txt\n", ["file1.txt", "filex.txt"])).toEqual(["file1.txt"]);
    expect(ignoredOf("a\\*b\n", ["a*b", "axb"])).toEqual(["a*b"]);
    expect(ignoredOf("v1.0+(beta)|x$\n", ["v1.0+(beta)|x$", "v100+beta"])).toEqual(["v1.0+(beta)|x$"]);
  });

  it("canSkipDir only when no exception can reach inside", () => {
    const matcher = createIgnoreMatcher("node_modules\nvendor\n!vendor/keep\ncache\n!**/important\n");
    // "!**/important" could match at any depth, so no ignored directory can be skipped.
    expect(matcher.canSkipDir("node_modules")).toBe(false);
    expect(createIgnoreMatcher("node_modules\n").canSkipDir("node_modules")).toBe(true);
    expect(matcher.canSkipDir("vendor")).toBe(false);
    expect(matcher.canSkipDir("src")).toBe(false);
    expect(createIgnoreMatcher("a\n!b/c\n").canSkipDir("a")).toBe(true);
  });

  it("errors name the line of a bad pattern", () => {
    for (const [text, message] of [
      ["ok\n!\n", /\.dockerignore:2:1: illegal exclusion pattern: "!"/],
      ["[a-\n", /\.dockerignore:1:1: syntax error in pattern "\[a-"/],
    ] as const) {
      expect(() => createIgnoreMatcher(text)).toThrow(DockerfileSyntaxError);
      expect(() => createIgnoreMatcher(text)).toThrow(message);
    }
  });
});
