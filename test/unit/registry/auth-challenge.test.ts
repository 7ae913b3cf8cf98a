import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate } from "../../../src/registry/auth-challenge.js";

describe("parseWwwAuthenticate", () => {
  it("reads Docker Hub's Bearer challenge", () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" } },
    ]);
  });

  it("reads distribution's insufficient_scope challenge with several scopes", () => {
    const [c] = parseWwwAuthenticate('Bearer realm="http://127.0.0.1:5001/token",service="reg",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"');
    expect(c?.params).toEqual({ realm: "http://127.0.0.1:5001/token", service: "reg", scope: "repository:a:pull,push repository:b:pull", error: "insufficient_scope" });
  });

  it("reads Basic, with and without a realm; scheme and names are case-insensitive", () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([{ scheme: "basic", params: { realm: "Registry Realm" } }]);
    expect(parseWwwAuthenticate("BASIC")).toEqual([{ scheme: "basic", params: {} }]);
    expect(parseWwwAuthenticate('bearer Realm="x"')).toEqual([{ scheme: "bearer", params: { realm: "x" } }]);
  });

  it("splits several challenges in one header (as fetch joins repeated headers)", () => {
    expect(parseWwwAuthenticate('Basic realm="a", Bearer realm="https://t/token", service="s"')).toEqual([
      { scheme: "basic", params: { realm: "a" } },
      { scheme: "bearer", params: { realm: "https://t/token", service: "s" } },
    ]);
    expect(parseWwwAuthenticate('Negotiate abc==, Basic realm="r"')).toEqual([
      { scheme: "negotiate", params: { "": "abc==" } },
      { scheme: "basic", params: { realm: "r" } },
    ]);
    expect(parseWwwAuthenticate("Basic, Bearer realm=t")).toEqual([
      { scheme: "basic", params: {} },
      { scheme: "bearer", params: { realm: "t" } },
    ]);
  });

  it("unescapes quoted strings, takes unquoted tokens, tolerates spaces around =", () => {
    expect(parseWwwAuthenticate('Bearer realm = "a \\"quoted\\" realm\\\\" , service=reg.example.com')).toEqual([{ scheme: "bearer", params: { realm: 'a "quoted" realm\\', service: "reg.example.com" } }]);
  });

  it("returns what it read before malformed input, and nothing for an empty header", () => {
    expect(parseWwwAuthenticate("")).toEqual([]);
    expect(parseWwwAuthenticate('Bearer realm="unterminated')).toEqual([{ scheme: "bearer", params: {} }]);
    expect(parseWwwAuthenticate("   ,  ")).toEqual([]);
  });
});
