/**
 * Conformance: BuildKit's shell lexer vectors (../shared/corpora/dockerfile-shell, see its README.md
 * for the formats). Every Unix (`U`) and all-platform (`A`) envVarTest case and every wordsTest case
 * must pass; `W` (Windows-only, case-insensitive names) cases are counted as not applicable.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processWord, processWords } from "../../src/image/shell-lexer.js";
import { corpusDir } from "./corpora.js";

const corpus = corpusDir("dockerfile-shell");

interface EnvVarCase {
  line: number;
  platform: string;
  input: string;
  expected: string;
}

function envVarCases(): EnvVarCase[] {
  const cases: EnvVarCase[] = [];
  readFileSync(path.join(corpus, "envVarTest"), "utf8")
    .split("\n")
    .forEach((raw, index) => {
      if (raw.startsWith("#") || raw.trim() === "") return;
      const fields = raw.split("|");
      if (fields.length !== 3) throw new Error(`envVarTest:${index + 1}: expected 3 fields, got ${fields.length}`);
      const [platform, input, expected] = fields.map((f) => f.trim()) as [string, string, string];
      cases.push({ line: index + 1, platform, input, expected });
    });
  return cases;
}

interface WordsCase {
  line: number;
  input: string;
  expected: string[] | "error";
  env: Record<string, string>;
}

function wordsCases(): WordsCase[] {
  const cases: WordsCase[] = [];
  const env: Record<string, string> = {};
  readFileSync(path.join(corpus, "wordsTest"), "utf8")
    .split("\n")
    .forEach((raw, index) => {
      if (raw.startsWith("#") || raw === "") return;
      if (raw.startsWith("ENV ")) {
        const assignment = raw.slice(3).replace(/^ +/, "");
        const eq = assignment.indexOf("=");
        env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
        return;
      }
      const fields = raw.split("|");
      if (fields.length !== 2) throw new Error(`wordsTest:${index + 1}: expected 2 fields, got ${fields.length}`);
      const want = (fields[1] as string).replace(/^ +/, "");
      cases.push({ line: index + 1, input: (fields[0] as string).trim(), expected: want === "error" ? "error" : want.split(","), env: { ...env } });
    });
  return cases;
}

const envVarEnv = { PWD: "/home", SHELL: "bash", KOREAN: "한국어", NULL: "" };
const counts = { envVar: 0, envVarPassed: 0, envVarWindowsOnly: 0, words: 0, wordsPassed: 0 };

describe("dockerfile-shell envVarTest", () => {
  const cases = envVarCases();
  it("has the documented number of cases", () => {
    expect(cases).toHaveLength(230);
  });
  for (const c of cases) {
    if (c.platform === "W") {
      counts.envVarWindowsOnly++;
      continue;
    }
    counts.envVar++;
    it(`line ${c.line}: ${c.platform}|${c.input}`, () => {
      if (c.expected === "error") expect(() => processWord(c.input, envVarEnv)).toThrow();
      else expect(processWord(c.input, envVarEnv)).toBe(c.expected);
      counts.envVarPassed++;
    });
  }
});

describe("dockerfile-shell wordsTest", () => {
  const cases = wordsCases();
  it("has the documented number of cases", () => {
    expect(cases).toHaveLength(24);
  });
  for (const c of cases) {
    counts.words++;
    it(`line ${c.line}: ${c.input}`, () => {
      if (c.expected === "error") expect(() => processWords(c.input, c.env)).toThrow();
      else expect(processWords(c.input, c.env)).toEqual(c.expected);
      counts.wordsPassed++;
    });
  }
});

afterAll(() => {
  console.log(`dockerfile-shell: envVarTest ${counts.envVarPassed}/${counts.envVar} (A+U) passed, ${counts.envVarWindowsOnly} Windows-only not applicable; ` + `wordsTest ${counts.wordsPassed}/${counts.words} passed`);
});
