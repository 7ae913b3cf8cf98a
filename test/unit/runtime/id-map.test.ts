import { describe, expect, it } from "vitest";
import { chooseIdMapping, mapText, subordinateRanges, widerRangeFix } from "../../../src/runtime/id-map.js";

const facts = { uid: 1001, gid: 1001, name: "dev", subuid: "other:100000:65536\ndev:165536:65536\n", subgid: "1001:231072:100000\n", newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap" };

describe("rootless id mapping", () => {
  it("maps container 0 to the user and 1-65536 onto the subordinate range, as podman does", () => {
    const m = chooseIdMapping(facts);
    expect(m.kind).toBe("subordinate");
    expect(mapText(m.uidMap)).toBe("0 1001 1\n1 165536 65536\n");
    // A range given by uid, and longer than 65536, is mapped whole.
    expect(mapText(m.gidMap)).toBe("0 1001 1\n1 231072 100000\n");
  });

  it("maps every range of the user, one after another, as podman does", () => {
    const m = chooseIdMapping({ ...facts, subuid: "dev:165536:65536\nother:1:5\ndev:500000:1000000\n" });
    expect(mapText(m.uidMap)).toBe("0 1001 1\n1 165536 65536\n65537 500000 1000000\n");
  });

  it("names a range large enough for an id beyond the map", () => {
    expect(widerRangeFix("dev", 70000)).toBe(
      "give your user a subordinate range of at least 70000 ids in /etc/subuid and /etc/subgid, e.g. sudo usermod --add-subuids 100000-169999 --add-subgids 100000-169999 dev (a range no other user has), then run bento again",
    );
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
    expect(subordinateRanges("dev:x:10\ndev:5:0\ndev:-3:10\n", "dev", 1)).toEqual([]);
    expect(subordinateRanges("dev:5:10\n", "dev", 1)).toEqual([{ start: 5, count: 10 }]);
  });
});
