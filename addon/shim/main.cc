// bento-shim: the helper executable that bento's addon posix_spawns. Namespace and mount work
// never runs inside multithreaded Node (RUNTIME-NOTES section 1); it runs here.
//   bento-shim shim <parent pid>   one per container: supervisor, logs, exit status
//   bento-shim exec <parent pid>   one per exec into a running container
//   bento-shim network <parent pid> one per network: holds its namespace and bridge
//   bento-shim userns|remove <parent pid> rootless: see userns.cc
//   bento-shim owners <parent pid>  rootless: see owners.cc
// fd 3 is the control socket to Node in both roles.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "roles.hh"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  // Started from a sealed memfd (/proc/self/fd/<n>), the kernel named us "<n>".
  prctl(PR_SET_NAME, "bento-shim");
  // Die with Node; then close the race where Node died before the prctl (bwrap does the same).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != static_cast<pid_t>(std::atoi(argv[2]))) return 3;
  signal(SIGPIPE, SIG_IGN);
  if (std::strcmp(argv[1], "shim") == 0) return ctr::RunShim();
  if (std::strcmp(argv[1], "exec") == 0) return ctr::RunExec();
  if (std::strcmp(argv[1], "network") == 0) return ctr::RunNetwork();
  if (std::strcmp(argv[1], "userns") == 0) return ctr::RunUserns();
  if (std::strcmp(argv[1], "remove") == 0) return ctr::RunRemove();
  if (std::strcmp(argv[1], "owners") == 0) return ctr::RunOwners();
  return 2;
}
