// Rootless: one user namespace per Node process, held by the "userns" role and joined by every
// other helper before it creates namespaces. Networks need this: moving a veth into a
// container's network namespace takes CAP_NET_ADMIN over the user namespace that owns it, so
// the network's namespace and the containers' must share one owner (podman keeps one rootless
// user namespace per user in its pause process for the same reason).
//
//   bento-shim userns <parent pid>   unshare(CLONE_NEWUSER), let Node write the id maps, hold
//   bento-shim remove <parent pid>   join the namespace and delete trees its ids own
#include "userns.hh"

#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "roles.hh"
#include "util.hh"

namespace ctr {
namespace {

constexpr int kControlFd = 3;
bool g_joined = false;

int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  int rc = (type == FTW_DP) ? rmdir(path) : unlink(path);
  if (rc < 0 && errno != ENOENT) Fail(type == FTW_DP ? "rmdir" : "unlink", path);
  return 0;
}

// rm -rf: depth first, not following symlinks, staying on one filesystem.
void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return;
    Fail("lstat", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) < 0 && errno != ENOENT) Fail("unlink", path);
    return;
  }
  // A directory without write or search permission for its owner is entered anyway: root of
  // the user namespace has CAP_DAC_OVERRIDE over every inode whose owner is mapped.
  if (nftw(path.c_str(), RemoveEntry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT) Fail("nftw", path);
}

}  // namespace

void JoinUserNamespace(const Plan& plan) {
  const Op* userns = plan.Setting("userns");
  if (!userns) return;
  g_current_step = userns->index;
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(userns->num(1)), 0)));
  if (!pidfd.valid()) Fail("pidfd_open", "user namespace holder " + userns->arg(1));
  if (setns(pidfd.get(), CLONE_NEWUSER) < 0) Fail("setns(CLONE_NEWUSER)", "user namespace holder " + userns->arg(1));
  g_joined = true;
  g_current_step = -1;
}

bool InJoinedUserNamespace() { return g_joined; }

// Unshares a user namespace and tells Node its pid; Node writes the id maps (newuidmap or
// /proc/<pid>/uid_map, the parent's job per user_namespaces(7)) and says "mapped"; the holder
// then waits until Node closes the control socket or dies (PR_SET_PDEATHSIG).
int RunUserns() {
  return RunReportingErrors(kControlFd, [] {
    Plan plan = ReadPlan(kControlFd);
    prctl(PR_SET_NAME, "bento-userns");
    if (unshare(CLONE_NEWUSER) < 0) Fail("unshare(CLONE_NEWUSER)", "");
    SendEvent(kControlFd, "\"event\":\"spawned\",\"pid\":" + std::to_string(getpid()));
    std::string line;
    char c;
    while (ReadFull(kControlFd, &c, 1) == 1) {
      if (c != '\n') {
        line.push_back(c);
        continue;
      }
      if (line == "mapped") SendEvent(kControlFd, "\"event\":\"ready\",\"pid\":" + std::to_string(getpid()));
      line.clear();
    }
    return 0;
  });
}

// Deletes each "remove <path>" of the plan from inside the user namespace, where files that
// container users created (owned by subordinate ids) are the namespace root's to delete.
int RunRemove() {
  return RunReportingErrors(kControlFd, [] {
    Plan plan = ReadPlan(kControlFd);
    JoinUserNamespace(plan);
    for (const Op& op : plan.settings) {
      if (op.name() != "remove") continue;
      g_current_step = op.index;
      RemoveTree(op.arg(1));
    }
    SendEvent(kControlFd, "\"event\":\"ready\"");
    return 0;
  });
}

}  // namespace ctr
