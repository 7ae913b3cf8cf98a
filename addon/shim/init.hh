// The container's PID 1 (tini/catatonit style): runs the container ops, starts the payload,
// forwards signals to it, reaps every zombie, and reports the payload's exit to the shim.
#pragma once
#include <vector>

#include "plan.hh"

namespace ctr {

struct InitFds {
  int sync;                    // SEQPACKET socket to the shim: "go" in, events out
  int out;                     // write end of the payload's stdout pipe
  int err;                     // write end of the payload's stderr pipe
  int in;                      // read end of the payload's stdin pipe (interactive), else -1
  std::vector<int> shim_only;  // the shim's channels to Node, which init must not keep
};

[[noreturn]] void RunInit(const Plan& plan, const InitFds& fds);

}  // namespace ctr
