/**
 * Conformance: BuildKit's Dockerfile parser cases (../shared/corpora/dockerfile-parser, see its
 * README.md). Every positive case's dump must equal its `result`, every negative case must be
 * rejected with a located error, and the line-number case must give the expected lines. Every
 * positive case also goes round trip (parse, print, parse): through the syntax tree always, and
 * through the plan when BuildKit's instruction layer accepts the file.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dumpDockerfileAst } from "../../src/image/dockerfile-ast.js";
import { printDockerfileAst } from "../../src/image/dockerfile-ast-printer.js";
import { parseDockerfileAst } from "../../src/image/dockerfile-parser.js";
import { parseDockerfile } from "../../src/image/dockerfile.js";
import { toDockerfile } from "../../src/image/dockerfile-printer.js";
import { DockerfileSyntaxError } from "../../src/image/errors.js";
import type { ImagePlan } from "../../src/image/plan.js";
import { corpusDir } from "./corpora.js";

const corpus = corpusDir("dockerfile-parser");
const read = (...parts: string[]) => readFileSync(path.join(corpus, ...parts), "utf8");

const positive = readdirSync(path.join(corpus, "testfiles")).sort();
const negative = readdirSync(path.join(corpus, "testfiles-negative")).sort();

// Cases BuildKit parses but its instruction layer rejects, so they have no plan; with the reason.
const noPlan: Record<string, RegExp> = {
  flags: /unknown flag: --user/,
  health: /HEALTHCHECK requires at least one argument/,
  json: /CMD before the first FROM/,
  "jeztah-invalid-json-single-quotes": /CMD before the first FROM/,
  "jeztah-invalid-json-unterminated-bracket": /CMD before the first FROM/,
};

const withoutLocations = (plan: ImagePlan): unknown => ({ ...plan, steps: plan.steps.map(({ location: _location, ...step }) => step) });

const counts = { dump: 0, negative: 0, line: 0, astRoundTrip: 0, planRoundTrip: 0, noPlan: 0 };

describe("dockerfile-parser corpus", () => {
  it("has the documented number of cases", () => {
    expect(positive).toHaveLength(18);
    expect(negative).toHaveLength(4);
  });

  describe.each(positive)("%s", (name) => {
    const text = read("testfiles", name, "Dockerfile");

    it("dumps to its result", () => {
      const dump = dumpDockerfileAst(parseDockerfileAst(text)) + "\n";
      expect(dump).toBe(read("testfiles", name, "result"));
      counts.dump++;
    });

    it("round-trips through the syntax tree", () => {
      const first = parseDockerfileAst(text);
      const printed = printDockerfileAst(first);
      expect(dumpDockerfileAst(parseDockerfileAst(printed))).toBe(dumpDockerfileAst(first));
      counts.astRoundTrip++;
    });

    const rejection = noPlan[name];
    if (rejection !== undefined) {
      it("has no plan: the instruction layer rejects it with a located error", () => {
        let error: unknown;
        try {
          parseDockerfile(text);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DockerfileSyntaxError);
        expect((error as DockerfileSyntaxError).message).toMatch(rejection);
        expect((error as DockerfileSyntaxError).line).toBeGreaterThan(0);
        counts.noPlan++;
      });
    } else {
      it("round-trips through the plan: parse, print, parse gives the same plan", () => {
        const plan = parseDockerfile(text);
        const printed = toDockerfile(plan);
        expect(withoutLocations(parseDockerfile(printed))).toEqual(withoutLocations(plan));
        counts.planRoundTrip++;
      });
    }
  });

  describe.each(negative)("negative %s", (name) => {
    it("is rejected with a located syntax error", () => {
      const text = read("testfiles-negative", name, "Dockerfile");
      let error: unknown;
      try {
        parseDockerfileAst(text, { file: `${name}/Dockerfile` });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DockerfileSyntaxError);
      const e = error as DockerfileSyntaxError;
      expect(e.code).toBe("ERR_DOCKERFILE_SYNTAX");
      expect(e.file).toBe(`${name}/Dockerfile`);
      expect(e.message).toMatch(new RegExp(`^${name}/Dockerfile:\\d+:\\d+: `));
      expect(e.reason).toMatch(/file with no instructions|ENV must have two arguments|arrays must be comprised of strings only/);
      counts.negative++;
    });
  });

  it("gives the expected line numbers (testfile-line)", () => {
    const expected = JSON.parse(read("testfile-line", "expected.json")) as {
      root: { startLine: number; endLine: number };
      childCount: number;
      children: { instruction: string; startLine: number; endLine: number }[];
    };
    const ast = parseDockerfileAst(read("testfile-line", "Dockerfile"));
    expect({ startLine: ast.startLine, endLine: ast.endLine }).toEqual(expected.root);
    expect(ast.children).toHaveLength(expected.childCount);
    expect(ast.children.map((c) => ({ instruction: c.value.toUpperCase(), startLine: c.startLine, endLine: c.endLine }))).toEqual(expected.children);
    counts.line++;
  });
});

afterAll(() => {
  console.log(
    `dockerfile-parser: dumps ${counts.dump}/${positive.length}, negative ${counts.negative}/${negative.length}, line-number ${counts.line}/1, ` +
      `round trips: syntax tree ${counts.astRoundTrip}/${positive.length}, plan ${counts.planRoundTrip}/${positive.length - Object.keys(noPlan).length} ` +
      `(+${counts.noPlan} rejected by the instruction layer as BuildKit does)`,
  );
});
