/**
 * The Dockerfile syntax tree on cases written for bento, printed in BuildKit's dump form
 * (`(keyword "arg" ...)`): every instruction's argument split, flags, continuations (comments and
 * blank lines inside them), the escape directive, heredocs, line numbers and the malformed files.
 * BuildKit's own parser cases run in `npm run test:conformance`.
 */
import { describe, expect, it } from "vitest";
import { dumpDockerfileAst } from "../../../src/image/dockerfile-ast.js";
import { parseDockerfileAst } from "../../../src/image/dockerfile-parser.js";
import { DockerfileSyntaxError } from "../../../src/image/errors.js";

const dump = (text: string): string => dumpDockerfileAst(parseDockerfileAst(text));

describe("instructions dump as BuildKit's parser splits them", () => {
  const cases: Array<[string, string, string]> = [
    ["FROM with a stage name", "FROM alpine:3.20 AS build", '(from "alpine:3.20" "AS" "build")'],
    ["FROM with --platform", "FROM --platform=linux/arm64 alpine", '(from ["--platform=linux/arm64"] "alpine")'],
    ["RUN, shell form, kept whole", "FROM a\nRUN echo  two   spaces", '(from "a")\n(run "echo  two   spaces")'],
    ["RUN, exec form", 'FROM a\nRUN ["echo", "a b"]', '(from "a")\n(run "echo" "a b")'],
    ["CMD exec form, ENTRYPOINT shell form", 'FROM a\nCMD ["-p", "80"]\nENTRYPOINT httpd -f', '(from "a")\n(cmd "-p" "80")\n(entrypoint "httpd -f")'],
    ["COPY with flags and several sources", "FROM a\nCOPY --from=build --chown=1:1 a b /c/", '(from "a")\n(copy ["--from=build" "--chown=1:1"] "a" "b" "/c/")'],
    ["ADD with --chmod", "FROM a\nADD --chmod=755 tool /bin/", '(from "a")\n(add ["--chmod=755"] "tool" "/bin/")'],
    ["ENV, key=value pairs keep their quotes", 'FROM a\nENV A=1 B="2 3"', '(from "a")\n(env "A" "1" "=" "B" "\\"2 3\\"" "=")'],
    ["ENV, the old form takes the rest of the line", "FROM a\nENV GREETING hello world", '(from "a")\n(env "GREETING" "hello world" "")'],
    ["LABEL pairs", 'FROM a\nLABEL "k"="v" x=y', '(from "a")\n(label "\\"k\\"" "\\"v\\"" "=" "x" "y" "=")'],
    ["EXPOSE, VOLUME, ARG", "FROM a\nEXPOSE 80/tcp 53/udp\nVOLUME /a /b\nARG V=1", '(from "a")\n(expose "80/tcp" "53/udp")\n(volume "/a" "/b")\n(arg "V=1")'],
    ["VOLUME as a JSON array", 'FROM a\nVOLUME ["/data"]', '(from "a")\n(volume "/data")'],
    ["ONBUILD nests its instruction", "FROM a\nONBUILD RUN echo hi", '(from "a")\n(onbuild (run "echo hi"))'],
    ["HEALTHCHECK with flags, and NONE", "FROM a\nHEALTHCHECK --interval=5s CMD wget -q x\nHEALTHCHECK NONE", '(from "a")\n(healthcheck ["--interval=5s"] "CMD" "wget -q x")\n(healthcheck "NONE")'],
    ["USER, WORKDIR, STOPSIGNAL, MAINTAINER", "FROM a\nUSER app:app\nWORKDIR /srv\nSTOPSIGNAL SIGINT\nMAINTAINER me", '(from "a")\n(user "app:app")\n(workdir "/srv")\n(stopsignal "SIGINT")\n(maintainer "me")'],
    ["SHELL", 'FROM a\nSHELL ["/bin/bash", "-c"]', '(from "a")\n(shell "/bin/bash" "-c")'],
    ["keywords in any case", "from a\nRun echo hi", '(from "a")\n(run "echo hi")'],
    ["a continuation joins the lines", "FROM a\nRUN echo a \\\n  && echo b", '(from "a")\n(run "echo a   && echo b")'],
    ["comments and blank lines inside a continuation are dropped", "FROM a\nRUN a \\\n# inside\n\n  b", '(from "a")\n(run "a   b")'],
    ["comments between instructions are not instructions", "# top\nFROM a\n  # indented\nRUN b", '(from "a")\n(run "b")'],
    ["a JSON array that is not valid JSON is the shell form", "FROM a\nCMD [\"a\", 'b']", '(from "a")\n(cmd "[\\"a\\", \'b\']")'],
  ];
  it.each(cases)("%s", (_name, text, expected) => {
    expect(dump(text)).toBe(expected);
  });
});

describe("the escape directive", () => {
  it("# escape=` makes the backtick the continuation character and keeps backslashes", () => {
    const ast = parseDockerfileAst("# escape=`\nFROM a\nRUN dir `\n  c:\\data");
    expect(ast.escape).toBe("`");
    expect(ast.directives).toEqual({ escape: "`" });
    expect(dumpDockerfileAst(ast)).toBe('(from "a")\n(run "dir   c:\\\\data")');
  });

  it("a directive after the first instruction is a comment", () => {
    const ast = parseDockerfileAst("FROM a\n# escape=`\nRUN b \\\n  c");
    expect(ast.escape).toBe("\\");
    expect(ast.directives).toEqual({});
  });
});

describe("heredocs", () => {
  it("RUN and COPY keep their bodies as written; <<- is recorded as chomp, <<'X' as no expansion", () => {
    const ast = parseDockerfileAst("FROM a\nRUN <<EOF\necho $HOME\nEOF\nCOPY <<-X /f\n\thello\n\tX\nRUN <<'Q'\n$kept\nQ\n");
    const [, run, copy, quoted] = ast.children;
    expect(run?.heredocs).toEqual([{ name: "EOF", content: "echo $HOME\n", expand: true, chomp: false }]);
    expect(copy?.heredocs).toEqual([{ name: "X", content: "\thello\n", expand: true, chomp: true }]);
    expect(quoted?.heredocs).toEqual([{ name: "Q", content: "$kept\n", expand: false, chomp: false }]);
    expect(ast.children.map((c) => [c.startLine, c.endLine])).toEqual([
      [1, 1],
      [2, 4],
      [5, 7],
      [8, 10],
    ]);
  });
});

describe("line numbers", () => {
  it("an instruction spans its continuation lines", () => {
    const ast = parseDockerfileAst("\n# c\nFROM a\nRUN x \\\n  y \\\n  z\nCMD q");
    expect(ast.children.map((c) => [c.startLine, c.endLine])).toEqual([
      [3, 3],
      [4, 6],
      [7, 7],
    ]);
    expect(ast.startLine).toBe(3);
    expect(ast.endLine).toBe(7);
  });
});

describe("malformed files are errors at their line", () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ["an empty file", "", 1, /no instructions/],
    ["only comments", "# just a comment\n", 1, /no instructions/],
    ["ENV without a value", "FROM a\nENV A", 2, /ENV must have two arguments/],
    ["a JSON array of non-strings", 'FROM a\nRUN ["a", 1]', 2, /strings only/],
    ["an unterminated heredoc", "FROM a\nRUN <<EOF\nno end", 2, /unterminated heredoc/],
    ["a repeated directive", "# escape=`\n# escape=\\\nFROM a", 2, /escape/],
  ];
  it.each(cases)("%s", (_name, text, line, message) => {
    let error: unknown;
    try {
      parseDockerfileAst(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DockerfileSyntaxError);
    expect((error as DockerfileSyntaxError).line).toBe(line);
    expect((error as Error).message).toMatch(message);
  });
});
