// Rootless: giving files to other owners. Node writes files as the user (container root); only
// root of the user namespace may hand them to the subordinate ids, so this role joins it and
// sets the owners Node decided.
//
//   bento-shim owners <parent pid>   "lchown <root> <path> <uid> <gid>" per file, ids as the
//                                    container sees them (the namespace's map turns them into
//                                    the host's subordinate ids)
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "roles.hh"
#include "userns.hh"
#include "util.hh"

namespace ctr {
namespace {

constexpr int kControlFd = 3;

// Opens `rel` under `root` as if `root` were "/", never following its last component: a
// symlink that a container (or an image) planted cannot send the chown outside the tree.
Fd OpenNoFollowInRoot(const std::string& root, const std::string& rel) {
  Fd dir(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) Fail("open", root);
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = syscall(SYS_openat2, dir.get(), rel.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) Fail("openat2", root + "/" + rel);
  return Fd(static_cast<int>(fd));
}

void SetOwner(const std::string& root, const std::string& rel, uid_t uid, gid_t gid) {
  Fd f = OpenNoFollowInRoot(root, rel);
  struct stat st;
  if (fstat(f.get(), &st) < 0) Fail("fstat", rel);
  if (fchownat(f.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) Fail("fchownat", rel);
  // chown clears setuid (and setgid with group exec); Node set the mode first, so put it back.
  if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID))) {
    std::string fd_path = "/proc/self/fd/" + std::to_string(f.get());
    if (chmod(fd_path.c_str(), st.st_mode & 07777) < 0) Fail("chmod", rel);
  }
}

}  // namespace

int RunOwners() {
  return RunReportingErrors(kControlFd, [] {
    Plan plan = ReadPlan(kControlFd);
    JoinUserNamespace(plan);
    for (const Op& op : plan.settings) {
      if (op.name() != "lchown") continue;
      g_current_step = op.index;
      SetOwner(op.arg(1), op.arg(2), static_cast<uid_t>(op.num(3)), static_cast<gid_t>(op.num(4)));
    }
    SendEvent(kControlFd, "\"event\":\"ready\"");
    return 0;
  });
}

}  // namespace ctr
