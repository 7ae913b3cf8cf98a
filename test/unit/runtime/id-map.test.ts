import { describe, expect, it } from "vitest";
import { chooseIdMapping, mapText, subordinateRange } from "../../../src/runtime/id-map.js";

const facts = { uid: 1001, gid: 1001, name: "dev", subuid: "other:100000:65536\ndev:165536:65536\n", subgid: "1001:231072:100000\n", newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap" };

describe("rootless id mapping", () => {
  it("maps container 0 to the user and 1-65536 onto the subordinate range, as podman does", () => {
    const m = chooseIdMapping(facts);
    expect(m.kind).toBe("subordinate");
    expect(mapText(m.uidMap)).toBe("0 1001 1\n1 165536 65536\n");
    // A range given by uid, and longer than 65536, is used for 65536 ids.
    expect(mapText(m.gidMap)).toBe("0 1001 1\n1 231072 65536\n");
  });

  it("maps the user alone, with the fix, without a range or without newuidmap", () => {
    const none = chooseIdMapping({ ...facts, subuid: "" });
    expect(none).toMatchObject({ kind: "single", uidMap: [{ inside: 0, outside: 1001, count: 1 }] });
    expect(none.limitation).toMatch(/no subordinate id range.*usermod --add-subuids/);
    const noHelper = chooseIdMapping({ ...facts, newuidmap: undefined });
    expect(noHelper.kind).toBe("single");
    expect(noHelper.limitation).toMatch(/apt-get install uidmap/);
  });

  it("ignores malformed and empty ranges", () => {
    expect(subordinateRange("dev:x:10\ndev:5:0\n", "dev", 1)).toBeUndefined();
    expect(subordinateRange("dev:5:10\n", "dev", 1)).toEqual({ start: 5, count: 10 });
  });
});
