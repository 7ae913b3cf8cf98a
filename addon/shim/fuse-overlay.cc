#include "fuse-overlay.hh"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

#include "util.hh"

namespace ctr {
namespace {

bool g_kernel_refused = false;
Fd g_fuse_device;

bool ListHas(const std::string& list, int err) {
  std::string want = std::to_string(err);
  for (size_t pos = 0; pos <= list.size();) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (list.compare(pos, comma - pos, want) == 0) return true;
    pos = comma + 1;
  }
  return false;
}

// The server: its own mount namespace, so that init's pivot_root (which moves the root of every
// process of the namespace that sits on the old root, pivot_root(2)) leaves its root on the host's
// tree: were its root the overlay it serves, a path it resolved would ask itself and hang. It dies
// with init (PR_SET_PDEATHSIG, kept across execve): in a PID namespace that init does not head
// (pid "host" or another container's), nothing else would end it after a SIGKILL of the runner.
// Only the FUSE fd (as fd 3) and /dev/null for stdio are passed on; an exec failure comes back
// on the close-on-exec report pipe.
[[noreturn]] void ExecServer(const Op& op, int fuse_fd, int report_fd, pid_t init) {
  auto fail = [&](int err) {
    (void)!write(report_fd, &err, sizeof err);
    _exit(127);
  };
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(errno);
  if (getppid() != init) _exit(1);  // init died before the death signal was armed
  if (unshare(CLONE_NEWNS) < 0) fail(errno);
  // Out of the way of 0-4 first, so no dup2 below overwrites the other fd.
  fuse_fd = fcntl(fuse_fd, F_DUPFD_CLOEXEC, 10);
  report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
  if (fuse_fd < 0 || report_fd < 0) fail(errno);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) fail(errno);
  if (dup2(fuse_fd, 3) < 0) fail(errno);
  // Everything else init holds (the payload's pipes, the sync socket) stays out of the server.
  if (syscall(SYS_close_range, 4U, 9U, 0) < 0) fail(errno);
  if (syscall(SYS_close_range, 10U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail(errno);
  const std::string& procs_files = op.arg(5);
  for (size_t pos = 0; pos < procs_files.size();) {
    size_t end = procs_files.find('\n', pos);
    if (end == std::string::npos) end = procs_files.size();
    std::string file = procs_files.substr(pos, end - pos);
    int f = open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (f < 0 || write(f, "0", 1) != 1) fail(errno);
    close(f);
    pos = end + 1;
  }
  std::vector<std::string> args(op.args.begin() + 6, op.args.end());
  args.back() += "3";  // "/dev/fd/" + the fd: libfuse serves a FUSE fd mounted by its caller
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  fail(errno);
  _exit(127);  // not reached: the compiler cannot see that fail() does not return
}

}  // namespace

void SetFuseDevice(int fd) { g_fuse_device.Reset(fd); }

void TryMountOverlay(const Op& op, void (*mount_overlay)(const Op&)) {
  Op kernel{op.index, {"mount-overlay"}};
  kernel.args.insert(kernel.args.end(), op.args.begin() + 2, op.args.end());
  try {
    mount_overlay(kernel);
  } catch (const SetupError& e) {
    if (!ListHas(op.arg(1), e.err)) throw;
    g_kernel_refused = true;
  }
}

// The kernel's FUSE mount is made here, with the fd this process opened (mount.fuse's "fd="
// option; libfuse 3.3+ takes "/dev/fd/N" as an already mounted session, fuse_session_mount(3)),
// instead of letting fuse-overlayfs mount: so the mount is in the container's namespace and
// exists before the server starts, and no readiness has to be polled; the first access below
// waits for the server's answer. containers/storage drivers/overlay runs it as a mount_program
// that mounts by itself, in the host's namespace, which a per-container namespace cannot use.
void MountFuseOverlay(const Op& op) {
  Fd fuse(g_fuse_device.Release());
  if (op.arg(1) == "if-kernel-refused" && !g_kernel_refused) return;
  const std::string& target = op.arg(2);
  if (!fuse.valid()) throw std::runtime_error("plan: mount-fuse-overlay without the fuse-device setting");
  std::string options = "fd=" + std::to_string(fuse.get()) + "," + op.arg(4);
  if (mount("fuse-overlayfs", target.c_str(), "fuse.fuse-overlayfs", static_cast<unsigned long>(op.num(3)),
            options.c_str()) < 0)
    Fail("mount(fuse)", target);
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) Fail("pipe2", "");
  Fd report_read(report[0]), report_write(report[1]);
  pid_t init = getpid();
  pid_t pid = fork();
  if (pid < 0) Fail("fork", op.arg(6));
  if (pid == 0) ExecServer(op, fuse.get(), report_write.get(), init);
  // Only the server may hold the FUSE fd: once it is gone, the mount answers ENOTCONN, not hangs.
  fuse.Reset();
  report_write.Reset();
  int err = 0;
  if (ReadFull(report_read.get(), &err, sizeof err) == sizeof err) {
    waitpid(pid, nullptr, 0);
    errno = err;
    Fail("execve", op.arg(6));
  }
  // The first access through the mount: the server answers it, or has exited (bad options).
  struct stat st;
  if (stat(target.c_str(), &st) < 0) {
    int stat_err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    errno = stat_err;
    Fail("stat (fuse-overlayfs exited)", target);
  }
}

}  // namespace ctr
