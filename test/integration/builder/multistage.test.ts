import "../setup-env.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BaseImageNotFoundError } from "../../../src/builder/index.js";
// The registry layer installs itself into the build engine (pulls for FROM, archive imports).
import "../../../src/registry/store.js";
import { Image } from "../../../src/image/image.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { onlyRootInContainers } from "../rootless.js";
import { expectNoLeaks, progress, runImage, summary } from "./helpers.js";

afterEach(() => expectNoLeaks());

const dockerfile = `
ARG BASE=busybox:multistage
FROM \${BASE} AS builder
RUN mkdir /out && echo built-artifact > /out/artifact && echo 'echo running $(cat /app/artifact)' > /out/run.sh

FROM \${BASE} AS unused
RUN echo this stage is not needed; exit 1

FROM builder AS tester
RUN test -f /out/artifact && echo tested > /out/tested

FROM \${BASE}
COPY --from=builder /out/ /app/
COPY --from=busybox:multistage /etc/passwd /copied/passwd
CMD ["sh", "/app/run.sh"]
`;

describe(`multi-stage builds`, () => {
  beforeAll(async () => {
    await Image.fromRootfs(busyboxRootfs()).build({ tag: "busybox:multistage" });
  });

  it("builds only the stages the target needs, copies between stages and from images, and runs the result", async () => {
    const p = progress();
    const image = Image.fromDockerfile({ dockerfile });
    const built = await image.build({ onProgress: p.onProgress });
    expect(summary(p.steps()).map((s) => s.replace(/^\S+ /, ""))).toEqual([
      "FROM ${BASE} AS builder",
      expect.stringMatching(/^RUN mkdir \/out/),
      "FROM ${BASE}",
      "COPY --from=builder /out/ /app/",
      "COPY --from=busybox:multistage /etc/passwd /copied/passwd",
      'CMD ["sh","/app/run.sh"]',
    ]);
    expect(p.steps().every((s) => s.total === 6)).toBe(true);
    expect(p.steps().map((s) => s.stage)).toEqual(["builder", "builder", "3", "3", "3", "3"]);
    expect((await runImage(Image.from(built.id))).stdout).toBe("running built-artifact\n");
    const check = await runImage(Image.from(built.id).cmd(["sh", "-c", "ls /app; head -1 /copied/passwd; ls /out 2>&1 | head -1"]));
    expect(check.stdout).toBe("artifact\nrun.sh\nroot:x:0:0:root:/root:/bin/sh\nls: /out: No such file or directory\n");
  });

  it("builds a target stage and what it starts from", async () => {
    const p = progress();
    const built = await Image.fromDockerfile({ dockerfile, target: "tester" }).build({ onProgress: p.onProgress });
    expect(p.steps().map((s) => s.stage)).toEqual(["builder", "builder", "tester", "tester"]);
    expect(
      p
        .steps()
        .slice(0, 2)
        .every((s) => s.cached),
    ).toBe(true); // built by the test before
    expect((await runImage(Image.from(built.id).cmd(["cat", "/out/tested"]))).stdout).toBe("tested\n");
  });

  it("builds embedded Images: from(otherImage) and copy({ from: otherImage })", async () => {
    const builder = Image.fromRootfs(busyboxRootfs()).run("mkdir -p /dist && echo from-builder > /dist/app.txt");
    const base = Image.fromRootfs(busyboxRootfs()).env("LAYER", "base").run("echo base > /base.txt");
    const app = Image.from(base).copy("/dist/app.txt", "/app.txt", { from: builder }).cmd(["sh", "-c", "cat /base.txt /app.txt; echo $LAYER"]);
    expect((await runImage(app)).stdout).toBe("base\nfrom-builder\nbase\n");
  });

  it("runs a base image's ONBUILD triggers first in the child stage", async () => {
    await Image.fromRootfs(busyboxRootfs()).onbuild("RUN echo triggered > /onbuild.txt").build({ tag: "onbuild-parent:1" });
    const p = progress();
    const child = Image.from("onbuild-parent:1").cmd(["cat", "/onbuild.txt"]);
    const built = await child.build({ onProgress: p.onProgress });
    expect(p.steps().map((s) => s.instruction)).toEqual(["FROM onbuild-parent:1", "RUN echo triggered > /onbuild.txt", 'CMD ["cat","/onbuild.txt"]']);
    expect(p.steps().at(-1)?.total).toBe(3);
    expect(built.config.OnBuild).toBeUndefined();
    expect((await runImage(Image.from(built.id))).stdout).toBe("triggered\n");
  });

  it("copies files another user made 0600 in a stage (rootless: files of a subordinate id the user cannot read)", async () => {
    // COPY of a directory copies what it holds (into a new 0755 /keys, as Docker does). Without a
    // subordinate range only root exists in a container: the stage's files stay root's.
    const owner = onlyRootInContainers ? "" : "&& chown app:app /keys/key /keys";
    const made = onlyRootInContainers ? "0:0" : "1000:1000";
    const image = Image.fromDockerfile({
      dockerfile: `
FROM busybox:multistage AS secret
RUN mkdir -m 700 /keys && echo s3cret > /keys/key && chmod 600 /keys/key ${owner}
FROM busybox:multistage
COPY --from=secret /keys /keys
COPY --from=secret --chown=0:0 /keys/key /root-key
COPY --from=secret /keys/k* /wild/
CMD ["sh", "-c", "stat -c '%n %a %u:%g' /keys /keys/key /root-key /wild/key && cat /keys/key /root-key /wild/key"]
`,
    });
    const built = await image.build();
    expect(await runImage(Image.from(built.id))).toMatchObject({ exitCode: 0, stdout: `/keys 755 0:0\n/keys/key 600 ${made}\n/root-key 600 0:0\n/wild/key 600 ${made}\ns3cret\ns3cret\ns3cret\n` });
  });

  it("names a missing base image and the ways to get it", async () => {
    const error = await Image.from("registry.example/nothing:1")
      .run("true")
      .build()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BaseImageNotFoundError);
    expect((error as BaseImageNotFoundError).code).toBe("ERR_BASE_IMAGE_NOT_FOUND");
    expect((error as Error).message).toMatch(/"registry\.example\/nothing:1" is not in the store .*Store\.import\(archive\).*Image\.fromArchive.*Store\.pull/);
  });
});
