// The helpers' views of a container's files: an overlay of its layers mounted where only the
// helper sees it, names resolved inside it, and programs run in its directories.
#include "overlay-view.hh"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.hh"

namespace ctr {

// An overlay mounted with "volatile" (no syncs of its upper dir: the container's writes need not
// survive a crash of the machine) leaves <work>/work/incompat/volatile/dirty, and the kernel then
// refuses every later mount of that workdir, volatile or not: after a crash the upper dir may
// have lost writes. bento mounts a container's dirs again only after a stop in the same boot (its
// runtime state is on a tmpfs, and containers a crash left behind are swept, never restarted),
// when the page cache still holds every write, so the mark can go.
void ClearVolatileMark(const std::string& work) {
  const std::string mark = work + "/work/incompat/volatile";
  if (unlink((mark + "/dirty").c_str()) < 0 && errno != ENOENT) Fail("unlink", mark + "/dirty");
  if (rmdir(mark.c_str()) < 0 && errno != ENOENT) Fail("rmdir", mark);
}

// A read-only overlay of `dirs` (top first) as a detached mount, in a mount namespace of our
// own (the user namespace's root may mount overlay there; nothing on the host sees it). One dir
// is opened as it is.
// With `upper` and `work`, the overlay is writable: what is written lands in `upper`, with the
// copy-up of parents, owners and whiteouts the container's own overlay makes.
Fd OpenView(const std::vector<std::string>& dirs, const std::string& upper, const std::string& work) {
  if (dirs.size() == 1 && upper.empty()) {
    Fd dir(open(dirs[0].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) Fail("open", dirs[0]);
    return dir;
  }
  if (!upper.empty()) ClearVolatileMark(work);
  static bool unshared = false;
  if (!unshared && unshare(CLONE_NEWNS) < 0) Fail("unshare(CLONE_NEWNS)", dirs[0]);
  unshared = true;
  Fd fs(static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
  if (!fs.valid()) Fail("fsopen(overlay)", dirs[0]);
  for (const std::string& dir : dirs)
    if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_SET_STRING, "lowerdir+", dir.c_str(), 0) < 0)
      Fail("fsconfig(lowerdir+)", dir);
  if (!upper.empty() && (syscall(SYS_fsconfig, fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) < 0 ||
                         syscall(SYS_fsconfig, fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) < 0))
    Fail("fsconfig(upperdir)", upper);
  // Rootless layers and upper dirs mark whiteouts and opaque dirs with user.overlay xattrs.
  if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) < 0)
    Fail("fsconfig(userxattr)", dirs[0]);
  if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) Fail("fsconfig(create)", dirs[0]);
  unsigned attributes = MOUNT_ATTR_NODEV | (upper.empty() ? MOUNT_ATTR_RDONLY : 0);
  Fd mnt(static_cast<int>(syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, attributes)));
  if (!mnt.valid()) Fail("fsmount", dirs[0]);
  return mnt;
}

// Runs `argv` (cp or rm) in the directory `dir`, by names it does not follow.
void RunIn(int dir, const std::vector<const char*>& argv, const std::string& what) {
  pid_t pid = fork();
  if (pid < 0) Fail("fork", what);
  if (pid == 0) {
    if (fchdir(dir) < 0) _exit(126);
    std::vector<const char*> args = argv;
    args.push_back(nullptr);
    execvp(args[0], const_cast<char* const*>(args.data()));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) Fail("waitpid", what);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = EIO;
    Fail(argv[0], what);
  }
}

// Opens `rel` in the view as the container would resolve it (never leaving it).
long OpenInRoot(int root, const std::string& rel) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace ctr
