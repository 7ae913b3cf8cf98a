// The last steps before a container process runs: session, fds, cwd, credentials, capabilities,
// no_new_privs, signal state, then execve. Shared by init's payload and by exec.
#pragma once
#include "plan.hh"

namespace ctr {

// Makes the calling process the payload described by spec and execs it. Only returns by
// throwing SetupError (the step that failed). stdio (0, 1, 2) must already be in place.
[[noreturn]] void ExecProcess(const ProcessSpec& spec);

// Signals that a payload-spawning process keeps blocked for its signalfd.
void BlockForwardedSignals();

}  // namespace ctr
