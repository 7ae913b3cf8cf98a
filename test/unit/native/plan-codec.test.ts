import { describe, expect, it } from "vitest";
import { encodePlan } from "../../../src/native/plan-codec.js";

describe("encodePlan", () => {
  it("frames records and fields by byte length, so any value passes unharmed", () => {
    // "é" is two bytes; the newline and comma inside a value are data, not separators.
    expect(encodePlan([["op", "é\n,"], []]).toString("utf8")).toBe("16\n2:2:op,4:é\n,,0:");
  });

  it("encodes each field as it would be encoded alone: lone surrogates of neighbouring fields never pair up", () => {
    const replacement = Buffer.from("\ud800"); // U+FFFD, 3 bytes
    const body = Buffer.concat([Buffer.from("2:3:"), replacement, Buffer.from(",3:"), replacement, Buffer.from(",")]);
    expect(encodePlan([["\ud800", "\udc00"]])).toEqual(Buffer.concat([Buffer.from(`${body.length}\n`), body]));
  });
});
