import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Stack } from "../../../src/stack/stack.js";
import { busybox, checkNothingLeaks, recorder } from "./stack-checks.js";

checkNothingLeaks();

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

describe(`compose system keys`, () => {
  it("extra_hosts, dns, hostname, domainname, sysctls, ulimits and shm_size as the container sees them", async () => {
    const yaml = `
services:
  sys:
    image: bb
    command: ["sh", "-c", "echo $$(ulimit -n) $$(ulimit -Hn) > /tmp/limits; exec sleep 60"]
    hostname: box
    domainname: example.org
    extra_hosts: ["api.test:10.1.2.3", "v6.test=::5"]
    dns: 10.0.0.2
    dns_search: [corp.example]
    dns_opt: ["ndots:2"]
    sysctls:
      net.core.somaxconn: 1024
      net.ipv4.ip_unprivileged_port_start: "80"
      kernel.shmmni: 2048
    ulimits:
      nofile: { soft: 1024, hard: 2048 }
    shm_size: 8m
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `system-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const out = async (script: string) => (await running.service("sys").exec(["sh", "-c", script])).stdout.trim();
      expect(await out("hostname; cat /proc/sys/kernel/domainname")).toBe("box\nexample.org");
      expect(await out("grep -E 'api.test|v6.test' /etc/hosts")).toBe("10.1.2.3\tapi.test\n::5\tv6.test");
      // The stack network's names are still there next to the extra hosts.
      expect(await out("grep -c sys /etc/hosts")).toBe("1");
      expect(await out("grep -E '^(nameserver|search|options)' /etc/resolv.conf")).toBe("nameserver 10.0.0.2\nsearch corp.example\noptions ndots:2");
      expect(await out("cat /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni")).toBe("1024\n80\n2048");
      // The command writes it after start: wait for the file, not a fixed time.
      expect(await out("while [ ! -s /tmp/limits ]; do sleep 0.01; done; cat /tmp/limits")).toBe("1024 2048");
      expect(await out("df -k /dev/shm | tail -1 | awk '{print $2}'")).toBe("8192");
    } finally {
      await running.down({ timeoutMs: 1_000 });
    }
  });

  it("host-gateway reaches a server of the test process from a service on the host network", async () => {
    server = createServer((_, res) => res.end("from the test process"));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const yaml = `
services:
  client:
    image: bb
    network_mode: host
    extra_hosts: ["testhost:host-gateway"]
    command: ["sleep", "60"]
`;
    const rec = recorder();
    const running = await Stack.fromCompose({ yaml, env: {}, projectName: `gateway-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const r = await running.service("client").exec(["sh", "-c", `grep testhost /etc/hosts; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc testhost ${port} | tail -1`]);
      expect(r.stdout).toBe("127.0.0.1\ttesthost\nfrom the test process");
    } finally {
      await running.down({ timeoutMs: 1_000 });
    }
  });
});
