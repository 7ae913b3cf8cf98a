/**
 * The Dockerfile word lexer, on cases written for bento: quotes, escapes, every `${VAR...}`
 * modifier, word splitting, the backtick escape token and the errors. BuildKit's own vectors run
 * in `npm run test:conformance`.
 */
import { describe, expect, it } from "vitest";
import { expandShellWord, processWord, processWords } from "../../../src/image/shell-lexer.js";

const env = { NAME: "bento", EMPTY: "", SPACED: "a  b\tc", PATH: "/usr/bin:/bin", FILE: "archive.tar.gz", DIR: "/srv/www/" };

describe("processWord: one word, quotes removed, variables expanded", () => {
  const cases: Array<[string, string]> = [
    ["plain", "plain"],
    ["$NAME", "bento"],
    ["${NAME}", "bento"],
    ["pre-$NAME-post", "pre-bento-post"],
    ["${NAME}s", "bentos"],
    ["$NAMEs", ""],
    ["$UNSET", ""],
    ["'$NAME'", "$NAME"],
    ['"$NAME"', "bento"],
    ['"it\'s"', "it's"],
    ["'a\"b'", 'a"b'],
    ["\\$NAME", "$NAME"],
    ['"\\$NAME"', "$NAME"],
    ["a\\ b", "a b"],
    ['"a\\"b"', 'a"b'],
    ["'back\\slash'", "back\\slash"],
    ["${UNSET:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${EMPTY-fallback}", ""],
    ["${UNSET-fallback}", "fallback"],
    ["${NAME:-fallback}", "bento"],
    ["${NAME:+set}", "set"],
    ["${EMPTY:+set}", ""],
    ["${EMPTY+set}", "set"],
    ["${UNSET:+set}", ""],
    ["${UNSET:-$NAME}", "bento"],
    ["${UNSET:-'quoted $NAME'}", "quoted $NAME"],
    ["${FILE#*.}", "tar.gz"],
    ["${FILE##*.}", "gz"],
    ["${FILE%.*}", "archive.tar"],
    ["${FILE%%.*}", "archive"],
    ["${DIR%/}", "/srv/www"],
    ["${FILE/tar/zip}", "archive.zip.gz"],
    ["${PATH//bin/sbin}", "/usr/sbin:/sbin"],
    ["$", "$"],
    ["a$", "a$"],
    ["$1", ""],
    ["${SPACED}", "a  b\tc"],
    ['"${SPACED}"', "a  b\tc"],
    ["", ""],
  ];
  it.each(cases)("%j -> %j", (input, expected) => {
    expect(processWord(input, env)).toBe(expected);
  });

  it("keeps the escape character with rawEscapes", () => {
    expect(processWord("a\\ b", env, { rawEscapes: true })).toBe("a\\ b");
  });

  it("uses the backtick as the escape character after # escape=`", () => {
    expect(processWord("C:\\dir\\$NAME", env, { escape: "`" })).toBe("C:\\dir\\bento");
    expect(processWord("`$NAME", env, { escape: "`" })).toBe("$NAME");
  });

  it("reads a Map environment as well as a record", () => {
    expect(
      processWord(
        "$A-$B",
        new Map([
          ["A", "1"],
          ["B", "2"],
        ]),
      ),
    ).toBe("1-2");
  });
});

describe("processWord: errors name the problem", () => {
  const bad = ["${NAME", "${}", "${EMPTY:?}", "${UNSET:?is required}", "${UNSET?is required}", "'unterminated", '"unterminated', "${NAME:bad}"];
  it.each(bad)("%j is rejected", (input) => {
    expect(() => processWord(input, env)).toThrow();
  });

  it("a required variable's message is part of the error", () => {
    expect(() => processWord("${UNSET:?set UNSET first}", env)).toThrow(/set UNSET first/);
  });

  it("a set required variable expands", () => {
    expect(processWord("${NAME:?unused}", env)).toBe("bento");
  });
});

describe("processWords: word splitting after expansion", () => {
  const cases: Array<[string, string[]]> = [
    ["one two  three", ["one", "two", "three"]],
    ["  leading and trailing  ", ["leading", "and", "trailing"]],
    ['"one word" two', ["one word", "two"]],
    ["'single quoted' x", ["single quoted", "x"]],
    ["a\\ b c", ["a b", "c"]],
    ["$SPACED", ["a", "b", "c"]],
    ['"$SPACED"', ["a  b\tc"]],
    ["x$SPACED", ["xa", "b", "c"]],
    ["$EMPTY", []],
    ["pre${NAME}post other", ["prebentopost", "other"]],
    ["", []],
  ];
  it.each(cases)("%j -> %j", (input, expected) => {
    expect(processWords(input, env)).toEqual(expected);
  });
});

describe("expandShellWord: which variables a word used", () => {
  it("lists the names it read, set or not", () => {
    const result = expandShellWord("$NAME ${UNSET:-x} '$QUOTED'", env);
    expect(result.word).toBe("bento x $QUOTED");
    expect([...result.matched].sort()).toEqual(["NAME"]);
    expect([...result.unmatched].sort()).toEqual(["UNSET"]);
  });
});
