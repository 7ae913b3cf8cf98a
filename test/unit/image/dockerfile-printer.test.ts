import { describe, expect, it } from "vitest";
import { toDockerfile } from "../../../src/image/dockerfile-printer.js";
import { Image } from "../../../src/image/image.js";

describe("toDockerfile", () => {
  it("prints the DESIGN.md example", () => {
    const app = new Image()
      .from("docker.io/library/alpine:3.20")
      .arg("VERSION", "1")
      .env({ MODE: "test" })
      .workdir("/app")
      .copy("fixtures/", "/app/fixtures", { chown: "1000:1000" })
      .add("vendor.tar.gz", "/opt/")
      .run("echo hello > /app/hello.txt")
      .user("1000")
      .label({ "org.example.team": "qa" })
      .expose(8080)
      .volume("/data")
      .healthcheck(["CMD", "wget", "-q", "-O-", "localhost:8080"], { intervalMs: 500, retries: 20 })
      .stopSignal("SIGINT")
      .entrypoint(["/bin/httpd", "-f"])
      .cmd(["-p", "8080"]);
    expect(app.toDockerfile()).toMatchInlineSnapshot(`
      "FROM docker.io/library/alpine:3.20
      ARG VERSION=1
      ENV MODE=test
      WORKDIR /app
      COPY --chown=1000:1000 fixtures/ /app/fixtures
      ADD vendor.tar.gz /opt/
      RUN echo hello > /app/hello.txt
      USER 1000
      LABEL org.example.team=qa
      EXPOSE 8080
      VOLUME /data
      HEALTHCHECK --interval=500ms --retries=20 CMD ["wget","-q","-O-","localhost:8080"]
      STOPSIGNAL SIGINT
      ENTRYPOINT ["/bin/httpd","-f"]
      CMD ["-p","8080"]
      "
    `);
  });

  it("quotes values so that they parse back to the same words", () => {
    const img = Image.from("alpine")
      .env("ONE", "two words")
      .env({ A: "x y", B: 'say "hi"', C: "" })
      .arg("GREETING", "hello world")
      .label("description", "a   spaced\tvalue")
      .copy(["my file.txt"], "/dst dir/")
      .copy("a", "b", { exclude: ["my docs/*.md"] })
      .volume("/a b");
    expect(img.toDockerfile()).toMatchInlineSnapshot(`
      "FROM alpine
      ENV ONE two words
      ENV A=x\\ y B=say\\ "hi" C=
      ARG GREETING=hello\\ world
      LABEL description a   spaced	value
      COPY ["my file.txt","/dst dir/"]
      COPY --exclude="my docs/*.md" a b
      VOLUME ["/a b"]
      "
    `);
  });

  it("prints multi-stage plans, RUN options and heredoc scripts", () => {
    const img = Image.from("golang:1.22", { as: "build", platform: "$BUILDPLATFORM" })
      .run("go build -o /out/app ./cmd/app", {
        mounts: [
          { type: "cache", target: "/root/.cache/go-build", id: "go", sharing: "locked" },
          { type: "secret", id: "netrc", target: "/root/.netrc", required: true },
        ],
        network: "none",
      })
      .run("set -e\napk add curl\ncurl -fsS https://example.com > /dev/null")
      .from("scratch")
      .copy("/out/app", "/app", { from: "build", link: true })
      .shell(["/bin/ash", "-eo", "pipefail", "-c"])
      .healthcheck("NONE")
      .onbuild("RUN make")
      .cmd("exec /app");
    expect(img.toDockerfile()).toMatchInlineSnapshot(`
      "FROM --platform=$BUILDPLATFORM golang:1.22 AS build
      RUN --mount=type=cache,target=/root/.cache/go-build,id=go,sharing=locked --mount=type=secret,target=/root/.netrc,id=netrc,required=true --network=none go build -o /out/app ./cmd/app
      RUN <<EOF
      set -e
      apk add curl
      curl -fsS https://example.com > /dev/null
      EOF
      FROM scratch
      COPY --from=build --link /out/app /app
      SHELL ["/bin/ash","-eo","pipefail","-c"]
      HEALTHCHECK NONE
      ONBUILD RUN make
      CMD exec /app
      "
    `);
  });

  it("turns embedded images into named stages", () => {
    const builder = Image.from("golang", { as: "build" }).run("go build -o /out/app");
    const tools = Image.from("alpine").run("apk add curl");
    const img = Image.from(tools).copy("/out/app", "/app", { from: builder });
    expect(img.toDockerfile()).toMatchInlineSnapshot(`
      "FROM alpine AS bento-image-1-0
      RUN apk add curl
      FROM golang AS bento-image-2-build
      RUN go build -o /out/app
      FROM bento-image-1-0
      COPY --from=bento-image-2-build /out/app /app
      "
    `);
  });

  it("prints steps with no Dockerfile form as # bento: comments next to the closest form", () => {
    const img = Image.fromRootfs("/srv/rootfs")
      .run(["make"], { env: { CC: "clang" } })
      .run("make", { env: { CC: "it's" } });
    expect(img.toDockerfile()).toMatchInlineSnapshot(`
      "# bento: the root filesystem is the host directory "/srv/rootfs" (no Dockerfile form)
      FROM scratch
      # bento: RUN env CC is applied by the command (RUN has no env option)
      RUN ["env","CC=clang","make"]
      # bento: RUN env CC is applied by the command (RUN has no env option)
      RUN export CC='it'\\''s' && make
      "
    `);
  });

  it("keeps the escape and syntax directives of the plan", () => {
    expect(
      toDockerfile({
        version: 1,
        escape: "`",
        syntax: "docker/dockerfile:1",
        steps: [
          { kind: "from", base: { type: "scratch" } },
          {
            kind: "env",
            vars: [
              { key: "P", value: "a b" },
              { key: "Q", value: "1" },
            ],
          },
        ],
      }),
    ).toMatchInlineSnapshot(`
      "# syntax=docker/dockerfile:1
      # escape=\`
      FROM scratch
      ENV P=a\` b Q=1
      "
    `);
  });
});
