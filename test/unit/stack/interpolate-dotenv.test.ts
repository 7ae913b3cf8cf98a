import { describe, expect, it } from "vitest";
import { DotenvSyntaxError, parseDotenv } from "../../../src/stack/compose/dotenv.js";
import { interpolate, InterpolationFailure } from "../../../src/stack/compose/interpolate.js";
import { splitShellWords } from "../../../src/stack/compose/shell-words.js";

const vars: Record<string, string> = { SET: "value", EMPTY: "", B: "bee" };
const lookup = (name: string) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
const run = (text: string) => interpolate(text, lookup);

describe("interpolation (compose-spec Interpolation)", () => {
  it.each([
    ["plain", "plain"],
    ["${SET}", "value"],
    ["$SET", "value"],
    ["$SET.txt and ${SET}_x", "value.txt and value_x"],
    ["${UNSET}", ""],
    ["${UNSET:-dflt}", "dflt"],
    ["${EMPTY:-dflt}", "dflt"],
    ["${SET:-dflt}", "value"],
    ["${UNSET-dflt}", "dflt"],
    ["${EMPTY-dflt}", ""],
    ["${SET:+alt}", "alt"],
    ["${EMPTY:+alt}", ""],
    ["${EMPTY+alt}", "alt"],
    ["${UNSET+alt}", ""],
    ["${EMPTY?is set}", ""],
    ["$$", "$"],
    ["$$SET and $${SET}", "$SET and ${SET}"],
    ["${UNSET:-${B}}", "bee"],
    ["${UNSET:-${ALSO_UNSET:-deep}}!", "deep!"],
    ["${UNSET:-a-b:c}", "a-b:c"],
    ["22:22", "22:22"],
  ])("%s -> %s", (text, expected) => {
    expect(run(text)).toBe(expected);
  });

  it("reports variables used without a value or default", () => {
    const unset: string[] = [];
    interpolate("${A} $D ${C:-x} ${SET} $B", lookup, (n) => unset.push(n));
    expect(unset).toEqual(["A", "D"]);
  });

  it("fails a required variable with compose's words and the message", () => {
    expect(() => run("${UNSET:?set UNSET to the database URL}")).toThrow("required variable UNSET is missing a value: set UNSET to the database URL");
    expect(() => run("${EMPTY:?must not be empty}")).toThrow(/required variable EMPTY/);
    expect(() => run("${UNSET?}")).toThrow(InterpolationFailure);
    try {
      run("${UNSET:?x}");
    } catch (e) {
      expect((e as InterpolationFailure).kind).toBe("required");
    }
  });

  it("rejects any other $ and says to escape it with $$", () => {
    for (const text of ["$1", "a $ b", "cost: 5$", "${", "${SET", "${}", "${SET/a/b}", "${SET:0:2}", "${1X}"]) {
      expect(() => run(text), text).toThrow(/escape any \$ with another \$/);
    }
  });
});

describe("dotenv files (compose-go's parser)", () => {
  it("reads comments, export, quotes, inline comments and expansions as compose does", () => {
    const text = [
      "\ufeff# a comment",
      "",
      "PLAIN=value",
      "SPACED = spaced value   ",
      "export EXPORTED=1",
      "INLINE=kept # a comment",
      "HASH=a#b",
      "EMPTY=",
      "SINGLE='$PLAIN # not a comment'",
      'DOUBLE="line1\\nline2 $PLAIN \\"q\\""  # comment after quotes',
      'MULTI="first',
      'second"',
      "REF=${PLAIN}-x",
      "DEFAULTED=${NOPE:-fallback}",
      "YAML_STYLE: yes",
      'DOLLAR="\\$PLAIN"',
      "1DIGIT=skipped",
      "dotted.key-name=ok",
    ].join("\n");
    expect(parseDotenv(text)).toEqual({
      PLAIN: "value",
      SPACED: "spaced value",
      EXPORTED: "1",
      INLINE: "kept",
      HASH: "a#b",
      EMPTY: "",
      SINGLE: "$PLAIN # not a comment",
      DOUBLE: 'line1\nline2 value "q"',
      MULTI: "first\nsecond",
      REF: "value-x",
      DEFAULTED: "fallback",
      YAML_STYLE: "yes",
      DOLLAR: "$PLAIN",
      "dotted.key-name": "ok",
    });
  });

  it("takes bare keys and references from the environment first", () => {
    const env = (n: string) => ({ FROM_ENV: "e", OVER: "env" })[n];
    expect(parseDotenv("FROM_ENV\nMISSING\nOVER=file\nUSE=$OVER\n", env)).toEqual({ FROM_ENV: "e", OVER: "file", USE: "env" });
  });

  it("names the line of a malformed entry", () => {
    expect(() => parseDotenv('A=1\nB="open\nC=2\n')).toThrow(DotenvSyntaxError);
    try {
      parseDotenv("A=1\n\nB C=2\n");
    } catch (e) {
      expect((e as DotenvSyntaxError).line).toBe(3);
      expect((e as Error).message).toMatch(/contains a space/);
    }
    expect(() => parseDotenv("A=1\nB!=2\n")).toThrow(/unexpected character "!"/);
    expect(() => parseDotenv('A="x" junk\n')).toThrow(/after the quoted value of A/);
  });
});

describe("command strings (go-shellwords rules)", () => {
  it.each([
    ["npm start", ["npm", "start"]],
    ["  sh   -c   'echo \"hi there\"' ", ["sh", "-c", 'echo "hi there"']],
    ['echo "a \\"b\\" $HOME"', ["echo", 'a "b" $HOME']],
    ["echo a\\ b ''", ["echo", "a b", ""]],
    ["", []],
  ])("%s", (text, words) => {
    expect(splitShellWords(text)).toEqual({ words });
  });

  it("reports an unclosed quote", () => {
    expect(splitShellWords("echo 'oops")).toEqual({ error: "the single quote is not closed" });
  });
});
