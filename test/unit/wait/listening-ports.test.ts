import { describe, expect, it } from "vitest";
import { parseListeningPorts } from "../../../src/wait/listening-ports.js";

const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41235 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 41236 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:2328 0100007F:A1B2 06 00000000:00000000 03:00000F2B 00000000     0        0 0 3 0000000000000000
`;
const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51234 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51235 1 0000000000000000 100 0 0 10 0
`;

describe("listening ports from /proc/net/tcp", () => {
  it("keeps LISTEN sockets (state 0A) only, by local port, sorted and unique", () => {
    expect(parseListeningPorts(tcp)).toEqual([5432, 8080]);
    expect(parseListeningPorts(tcp6)).toEqual([80, 8080]);
  });

  it("reads an empty table (only the header) as no ports", () => {
    expect(parseListeningPorts(tcp.split("\n")[0]!)).toEqual([]);
    expect(parseListeningPorts("")).toEqual([]);
  });
});
