/**
 * A realistic build: a Debian bookworm base made with debootstrap, a RUN that apt-installs a
 * package over the host network, and a container that runs it.
 */
import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import "../../../src/builder/index.js";
import "../../../src/registry/store.js";
import { Image } from "../../../src/image/image.js";
import { debianRootfs } from "./debian-rootfs.js";
import { onlyRootInContainers } from "../rootless.js";
import { expectNoLeaks, progress, runImage } from "./helpers.js";

afterEach(() => expectNoLeaks());

describe(`a Debian image with an apt-installed package`, () => {
  it("apt-get installs jq in RUN, and a container from the image runs it", { timeout: 900_000 }, async () => {
    const rootfs = await debianRootfs();
    const install = (apt: string) => `${apt} update -qq && ${apt} install -y -qq --no-install-recommends jq > /dev/null && rm -rf /var/lib/apt/lists/*`;
    // Rootless without a subordinate id range, apt cannot drop to its _apt user: the error says
    // why and names the fix, and apt's own switch (podman's advice) makes it run as root.
    if (onlyRootInContainers) {
      const plain = Image.fromRootfs(rootfs).env("DEBIAN_FRONTEND", "noninteractive").run(install("apt-get"));
      await expect(plain.build()).rejects.toThrow(/setgroups.*rootless without a subordinate id range.*usermod --add-subuids/s);
    }
    const image = Image.fromRootfs(rootfs)
      .env("DEBIAN_FRONTEND", "noninteractive")
      .run(install(onlyRootInContainers ? "apt-get -o APT::Sandbox::User=root" : "apt-get"))
      .workdir("/data")
      .run(`echo '{"tool": "jq", "works": true}' > input.json`)
      .entrypoint(["jq"])
      .cmd(["-c", ".", "input.json"]);
    const p = progress();
    const built = await image.build({ tag: "debian-jq:test", onProgress: p.onProgress });
    expect(p.steps().map((s) => s.instruction.split(" ")[0])).toEqual(["FROM", "ENV", "RUN", "WORKDIR", "RUN", "ENTRYPOINT", "CMD"]);
    // The root filesystem, the apt RUN, WORKDIR /data (a new directory) and the second RUN.
    expect(built.layers).toHaveLength(4);
    expect((await runImage(Image.from("debian-jq:test"))).stdout).toBe('{"tool":"jq","works":true}\n');
    expect((await runImage(Image.from("debian-jq:test"), { command: ["-r", ".tool", "input.json"] })).stdout).toBe("jq\n");
    const again = progress();
    await image.build({ tag: "debian-jq:test", onProgress: again.onProgress });
    expect(again.steps().every((s) => s.cached)).toBe(true);
  });
});
