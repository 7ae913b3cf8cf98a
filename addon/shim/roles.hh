// The helper's roles, chosen by argv[1]: "shim" (one per container) and "exec" (one per exec).
#pragma once

namespace ctr {

// fd 3: the control socket to Node. Returns the process exit code.
int RunShim();
int RunExec();
int RunNetwork();
int RunUserns();
int RunRemove();
int RunOwners();

}  // namespace ctr
