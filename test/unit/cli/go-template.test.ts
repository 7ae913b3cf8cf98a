import { describe, expect, it } from "vitest";
import { formatValue, parseTemplate, TemplateError } from "../../../src/cli/go-template.js";

const container = {
  Id: "abc",
  Name: "/db",
  State: { Status: "running", Running: true, ExitCode: 0, Health: null },
  Config: { Labels: { "com.example.team": "qa", tier: "db" }, Env: ["A=1", "B=2"], Cmd: ["postgres"] },
  NetworkSettings: { Ports: { "5432/tcp": [{ HostIp: "127.0.0.1", HostPort: "49153" }], "9000/udp": null } },
};
const render = (template: string, data: unknown = container) => parseTemplate(template)(data);

describe("parseTemplate", () => {
  it("reads field paths, and prints maps, lists and null as Go's fmt does", () => {
    expect(render("{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}")).toBe("running true 0");
    expect(render("{{.Config.Env}}")).toBe("[A=1 B=2]");
    expect(render("{{.NetworkSettings.Ports}}")).toBe("map[5432/tcp:[map[HostIp:127.0.0.1 HostPort:49153]] 9000/udp:<nil>]");
    expect(render("{{.State.Health}}|{{.State.Nope}}|{{.Nope.Deeper}}")).toBe("<nil>|<no value>|<no value>");
    expect(render("{{.}}", "plain")).toBe("plain");
  });

  it("json, index, len, join, upper and printf", () => {
    expect(render("{{json .Config.Labels}}")).toBe('{"com.example.team":"qa","tier":"db"}');
    expect(render('{{index .Config.Labels "com.example.team"}}')).toBe("qa");
    expect(render('{{index .Config.Labels "absent"}}')).toBe("");
    expect(render("{{index .Config.Env 1}}")).toBe("B=2");
    expect(render('{{len .Config.Env}} {{join .Config.Env ","}} {{.Name | upper}}')).toBe("2 A=1,B=2 /DB");
    expect(render('{{printf "%s=%d" "x" 3}}')).toBe("x=3");
    expect(render("{{json .Nope}}")).toBe("null");
  });

  it("ranges over lists and maps (keys sorted), with variables and parenthesized terms", () => {
    expect(render("{{range .Config.Env}}[{{.}}]{{end}}")).toBe("[A=1][B=2]");
    expect(render("{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}")).toBe("0:A=1 1:B=2 ");
    expect(render("{{range $p, $conf := .NetworkSettings.Ports}}{{$p}}{{if $conf}} -> {{(index $conf 0).HostPort}}{{end}};{{end}}")).toBe("5432/tcp -> 49153;9000/udp;");
    expect(render("{{range .Config.Cmd}}{{$.Name}}:{{.}}{{end}}")).toBe("/db:postgres");
    expect(render("{{range .Missing}}x{{else}}none{{end}}")).toBe("none");
  });

  it("if, with, else, comparisons and trim markers", () => {
    expect(render("{{if .State.Running}}up{{else}}down{{end}}")).toBe("up");
    expect(render('{{if eq .State.Status "exited"}}x{{else}}y{{end}}')).toBe("y");
    expect(render("{{with .Config.Labels}}{{.tier}}{{end}}")).toBe("db");
    expect(render("a  {{- .Name -}}  b")).toBe("a/dbb");
  });

  it("rejects templates that do not parse, naming the action", () => {
    const bad = (t: string) => () => parseTemplate(t);
    expect(bad("{{.Name")).toThrow(TemplateError);
    expect(bad("{{.Name")).toThrow(/unclosed action/);
    expect(bad("{{range .X}}")).toThrow("template: range has no {{end}}");
    expect(bad("{{end}}")).toThrow("template: {{end}}: unexpected end");
    expect(bad("{{frobnicate .X}}")).toThrow(/function "frobnicate" not defined/);
    expect(bad("{{.A .B}}")).toThrow(/2 values in one command/);
    expect(() => render("{{.Name.First}}")).toThrow("template: can't read field First of a string");
  });

  it("formatValue prints JSON data as Go prints the decoded value", () => {
    expect(formatValue({ b: [1, "x"], a: null })).toBe("map[a:<nil> b:[1 x]]");
  });
});
