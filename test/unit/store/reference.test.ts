import { describe, expect, it } from "vitest";
import { InvalidReferenceError } from "../../../src/store/errors.js";
import { familiarName, familiarReference, formatReference, parseReference, parseTagReference } from "../../../src/store/reference.js";

const digest = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it.each([
    ["alpine", "docker.io/library/alpine:latest"],
    ["alpine:3.20", "docker.io/library/alpine:3.20"],
    ["library/alpine", "docker.io/library/alpine:latest"],
    ["me/app:v1", "docker.io/me/app:v1"],
    ["index.docker.io/me/app", "docker.io/me/app:latest"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/whiteout", "localhost:5000/whiteout:latest"],
    ["ghcr.io/org/team/app:1.2.3-rc.1", "ghcr.io/org/team/app:1.2.3-rc.1"],
    [`app@${digest}`, `docker.io/library/app@${digest}`],
    [`app:1@${digest}`, `docker.io/library/app:1@${digest}`],
    ["[::1]:5000/app", "[::1]:5000/app:latest"],
    ["a__b/c-d.e_f:Tag_1", "docker.io/a__b/c-d.e_f:Tag_1"],
  ])("normalizes %s to %s, as Docker does", (text, full) => {
    expect(formatReference(parseReference(text))).toBe(full);
  });

  it.each([
    ["", "empty"],
    ["Alpine", "lowercase"],
    ["app:", "tag"],
    ["app:-x", "tag"],
    [`app:${"t".repeat(129)}`, "tag"],
    ["app@sha256:abc", "digest"],
    ["a//b", "path component"],
    ["-app", "path component"],
    ["app_", "path component"],
    [`x/${"a".repeat(260)}`, "longer than 255"],
  ])("refuses %j", (text, why) => {
    const error = (() => {
      try {
        parseReference(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidReferenceError);
    expect((error as InvalidReferenceError).code).toBe("ERR_INVALID_REFERENCE");
    expect((error as Error).message).toContain(why);
  });

  it("splits domain, path, tag and digest", () => {
    expect(parseReference(`reg.example.com:443/a/b:t@${digest}`)).toEqual({ domain: "reg.example.com:443", path: "a/b", tag: "t", digest });
    expect(parseReference(`a@${digest}`).tag).toBeUndefined();
  });

  it("refuses a digest where a tag is required", () => {
    expect(() => parseTagReference(`app@${digest}`)).toThrow(InvalidReferenceError);
    expect(parseTagReference("app").tag).toBe("latest");
  });
});

describe("familiar names", () => {
  it.each([
    ["docker.io/library/alpine", "alpine"],
    ["docker.io/me/app", "me/app"],
    ["docker.io/library/a/b", "library/a/b"],
    ["ghcr.io/x/y", "ghcr.io/x/y"],
  ])("shows %s as %s", (full, short) => {
    expect(familiarName(full)).toBe(short);
  });

  it("formats a reference the short way", () => {
    expect(familiarReference(parseReference("alpine:3"))).toBe("alpine:3");
  });
});
