#include "ops.hh"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <vector>
#include <stdexcept>

#include "devices.hh"
#include "fuse-overlay.hh"
#include "overlay-view.hh"
#include "util.hh"

namespace ctr {
namespace {

// The container's root, opened after the rootfs is mounted; "*-in" ops resolve against it.
Fd g_root;

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Resolves `rel` inside the root as if the root were "/", so an image's symlinks cannot point a
// mount or a device node at the host (runc's pathrs "InRoot", crun's safe_openat).
int OpenInRoot(const std::string& rel, int flags, mode_t mode = 0) {
  if (!g_root.valid()) throw std::runtime_error("plan: *-in op before set-root");
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = syscall(SYS_openat2, g_root.get(), rel.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  return static_cast<int>(fd);
}

Fd MustOpenInRoot(const std::string& rel, int flags, mode_t mode = 0) {
  int fd = OpenInRoot(rel, flags, mode);
  if (fd < 0) Fail("openat2", rel);
  return Fd(fd);
}

void SplitParent(const std::string& rel, std::string& parent, std::string& name) {
  size_t slash = rel.find_last_of('/');
  parent = slash == std::string::npos ? "." : rel.substr(0, slash);
  name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  if (parent.empty()) parent = ".";
}

// Refuses a path whose symlinks climb out of the root with "..": the kernel's RESOLVE_IN_ROOT
// would clamp them at the root, but an image that tries it is hostile, and a mount target it
// names is refused (EXDEV) rather than silently moved. Absolute symlinks are read as inside the
// root, as Docker's FollowSymlinkInScope reads them.
void CheckConfined(const std::string& rel) {
  std::vector<std::string> resolved;
  std::deque<std::string> todo;
  auto push_front = [&](const std::string& path) {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos <= path.size()) {
      size_t next = path.find('/', pos);
      if (next == std::string::npos) next = path.size();
      parts.push_back(path.substr(pos, next - pos));
      pos = next + 1;
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
  };
  push_front(rel);
  int links = 0;
  while (!todo.empty()) {
    std::string c = todo.front();
    todo.pop_front();
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (resolved.empty()) {
        errno = EXDEV;
        Fail("resolve (a symlink leads out of the root filesystem)", rel);
      }
      resolved.pop_back();
      continue;
    }
    std::string candidate;
    for (const std::string& r : resolved) candidate += r + "/";
    candidate += c;
    int fd = OpenInRoot(candidate, O_PATH | O_NOFOLLOW);
    if (fd < 0) {
      if (errno != ENOENT) Fail("openat2", candidate);
      resolved.push_back(c);  // will be created; later ".." are checked lexically
      continue;
    }
    Fd f(fd);
    struct stat st;
    if (fstat(f.get(), &st) < 0) Fail("fstat", candidate);
    if (!S_ISLNK(st.st_mode)) {
      resolved.push_back(c);
      continue;
    }
    if (++links > 40) {
      errno = ELOOP;
      Fail("resolve", rel);
    }
    char target[4096];
    ssize_t n = readlinkat(f.get(), "", target, sizeof target - 1);
    if (n < 0) Fail("readlinkat", candidate);
    target[n] = 0;
    if (target[0] == '/') resolved.clear();
    push_front(target);
  }
}

// mkdir -p inside the root; each missing component is made with mkdirat on its resolved parent.
void MkdirInRoot(const std::string& rel, mode_t mode) {
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t next = rel.find('/', pos);
    if (next == std::string::npos) next = rel.size();
    std::string prefix = rel.substr(0, next);
    if (!prefix.empty() && next > pos) {
      int fd = OpenInRoot(prefix, O_PATH | O_DIRECTORY);
      if (fd >= 0) {
        close(fd);
      } else if (errno == ENOENT) {
        std::string parent, name;
        SplitParent(prefix, parent, name);
        Fd dir = MustOpenInRoot(parent, O_PATH | O_DIRECTORY);
        if (mkdirat(dir.get(), name.c_str(), mode) < 0 && errno != EEXIST) Fail("mkdirat", prefix);
      } else {
        Fail("openat2", prefix);
      }
    }
    pos = next + 1;
  }
}

void Mount(const std::string& src, const std::string& target, const std::string& fstype, unsigned long flags,
           const std::string& data, const std::string& shown_target) {
  if (mount(src.empty() ? nullptr : src.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
            data.empty() ? nullptr : data.c_str()) < 0)
    Fail("mount", shown_target);
}

void MountInRoot(const Op& op) {
  Fd target = MustOpenInRoot(op.arg(2), O_PATH);
  Mount(op.arg(1), ProcFdPath(target.get()), op.arg(3), static_cast<unsigned long>(op.num(4)), op.arg(5), op.arg(2));
}

// Masks a path as runc's maskPath does: /dev/null over a file, an empty read-only tmpfs over a
// directory. A path the kernel does not have is left alone.
void MaskInRoot(const std::string& rel) {
  int fd = OpenInRoot(rel, O_PATH | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) Fail("openat2", rel);
  Fd target(fd);
  struct stat st;
  if (fstat(target.get(), &st) < 0) Fail("fstat", rel);
  if (S_ISDIR(st.st_mode)) Mount("tmpfs", ProcFdPath(target.get()), "tmpfs", MS_RDONLY, "nr_blocks=1,nr_inodes=1", rel);
  else Mount("/dev/null", ProcFdPath(target.get()), "", MS_BIND, "", rel);
}

// Bind a path onto itself, then remount the new mount read-only keeping its other flags.
void ReadonlyInRoot(const std::string& rel) {
  int fd = OpenInRoot(rel, O_PATH);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) Fail("openat2", rel);
  Fd under(fd);
  Mount(ProcFdPath(under.get()), ProcFdPath(under.get()), "", MS_BIND | MS_REC, "", rel);
  Fd top = MustOpenInRoot(rel, O_PATH);
  struct statvfs sv;
  if (fstatvfs(top.get(), &sv) < 0) Fail("fstatvfs", rel);
  unsigned long keep = 0;
  if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
  Mount("", ProcFdPath(top.get()), "", MS_BIND | MS_REMOUNT | MS_RDONLY | keep, "", rel);
}

// pivot_root(".", ".") as pivot_root(2) documents, then detach the old root (runc pivotRoot).
void PivotRoot(const std::string& new_root) {
  Fd old_root(open("/", O_DIRECTORY | O_PATH | O_CLOEXEC));
  if (!old_root.valid()) Fail("open", "/");
  Fd root(open(new_root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!root.valid()) Fail("open", new_root);
  if (fchdir(root.get()) < 0) Fail("fchdir", new_root);
  if (syscall(SYS_pivot_root, ".", ".") < 0) Fail("pivot_root", new_root);
  if (fchdir(old_root.get()) < 0) Fail("fchdir", "/");
  // The old root may still propagate to the host's mounts; make it a slave before detaching.
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) Fail("mount", "old root");
  if (umount2(".", MNT_DETACH) < 0) Fail("umount2", "old root");
  if (chdir("/") < 0) Fail("chdir", "/");
  g_root.Reset();
}

// Mounts an overlay with the new mount API: one fsconfig("lowerdir+") per layer, so the number
// of layers is not bounded by mount(2)'s one-page option string (RUNTIME-NOTES section 5; the
// kernel's own limit of 500 layers remains). Kernels without "lowerdir+" (before ~6.7) get
// mount(2) with the option string the plan supplies.
// args: target, flags, fallback data, upperdir, workdir, flag options (comma-separated, such
// as "userxattr,volatile"; may be empty), lowerdirs (top first)...
void MountOverlay(const Op& op) {
  const std::string& target = op.arg(1);
  ClearVolatileMark(op.arg(5));
  constexpr size_t kFirstLower = 7;
  Fd fs(static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
  bool new_api = fs.valid();
  auto set = [&](const char* key, const std::string& value) {
    return syscall(SYS_fsconfig, fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) == 0;
  };
  if (new_api) {
    for (size_t i = kFirstLower; i < op.args.size() && new_api; ++i) new_api = set("lowerdir+", op.args[i]);
    if (!new_api && errno != EINVAL)
      Fail("fsconfig(lowerdir+)", op.args.size() > kFirstLower ? op.args[kFirstLower] : target);
  }
  if (!new_api) {
    Mount("overlay", target, "overlay", static_cast<unsigned long>(op.num(2)), op.arg(3), target);
    return;
  }
  const std::string& flags = op.arg(6);
  for (size_t pos = 0; pos < flags.size();) {
    size_t comma = flags.find(',', pos);
    if (comma == std::string::npos) comma = flags.size();
    std::string flag = flags.substr(pos, comma - pos);
    if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_SET_FLAG, flag.c_str(), nullptr, 0) < 0)
      Fail(("fsconfig(" + flag + ")").c_str(), target);
    pos = comma + 1;
  }
  if (!set("upperdir", op.arg(4))) Fail("fsconfig(upperdir)", op.arg(4));
  if (!set("workdir", op.arg(5))) Fail("fsconfig(workdir)", op.arg(5));
  if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) Fail("fsconfig(create)", target);
  unsigned attrs = (op.num(2) & MS_NODEV) ? MOUNT_ATTR_NODEV : 0;
  Fd mnt(static_cast<int>(syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, attrs)));
  if (!mnt.valid()) Fail("fsmount", target);
  if (syscall(SYS_move_mount, mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    Fail("move_mount", target);
}

// A new network namespace has only lo, and it is down; containers expect it up (ioctl, as
// netdevice(7) describes, so no netlink code is needed for one flag).
void BringLoopbackUp() {
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) Fail("socket", "lo");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) Fail("ioctl(SIOCGIFFLAGS)", "lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) Fail("ioctl(SIOCSIFFLAGS)", "lo");
}

// Writes a sysctl through the container's /proc (mounted in its namespaces), so a net.* or IPC
// value changes only the container's namespace. The name was checked against the namespaced set
// in TypeScript; the path is still resolved inside the root.
void WriteSysctlInRoot(const std::string& rel, const std::string& value) {
  Fd f = MustOpenInRoot(rel, O_WRONLY);
  if (!WriteFull(f.get(), value.data(), value.size())) Fail("write", rel);
}

// setrlimit(2) in init; the payload it forks inherits the limits. -1 is RLIM_INFINITY.
void SetResourceLimit(const std::string& resource, const std::string& soft, const std::string& hard) {
  auto value = [](const std::string& v) { return v == "-1" ? RLIM_INFINITY : static_cast<rlim_t>(std::stoull(v)); };
  rlimit limit{value(soft), value(hard)};
  if (setrlimit(static_cast<__rlimit_resource>(std::stoi(resource)), &limit) < 0)
    Fail("setrlimit", "resource " + resource);
}

}  // namespace

void RunHostOp(const Op& op) {
  g_current_step = op.index;
  const std::string& k = op.name();
  if (k == "mkdir") {
    if (mkdir(op.arg(1).c_str(), static_cast<mode_t>(op.num(2))) < 0 && errno != EEXIST) Fail("mkdir", op.arg(1));
  } else if (k == "write") {
    Fd f(open(op.arg(1).c_str(), O_WRONLY | O_CLOEXEC));
    if (!f.valid()) Fail("open", op.arg(1));
    if (!WriteFull(f.get(), op.arg(2).data(), op.arg(2).size())) Fail("write", op.arg(1));
  } else if (k == "device-filter") {
    AttachDeviceFilter(op.arg(1), op.arg(2));
  } else {
    throw std::runtime_error("plan: unknown host op " + k);
  }
}

namespace {

Fd g_borrowed;  // the detached mount BorrowMount cloned, until attach-borrowed-in attaches it

// Init enters the mount namespace of <pid> (through the host's /proc, still mounted here), clones
// the mount at <path> there, and comes back to its own namespace: both are owned by its user
// namespace, rootless too, where the host's mount namespace could not be entered again.
void BorrowMount(const Op& op) {
  Fd own(open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
  if (!own.valid()) Fail("open", "/proc/self/ns/mnt");
  std::string theirs_path = "/proc/" + op.arg(1) + "/ns/mnt";
  Fd theirs(open(theirs_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!theirs.valid()) Fail("open", theirs_path);
  if (setns(theirs.get(), CLONE_NEWNS) < 0) Fail("setns(CLONE_NEWNS)", theirs_path);
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, op.arg(2).c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  int err = errno;
  if (setns(own.get(), CLONE_NEWNS) < 0) Fail("setns(CLONE_NEWNS)", "/proc/self/ns/mnt");
  errno = err;
  if (tree < 0) Fail("open_tree", op.arg(2));
  g_borrowed.Reset(tree);
}

}  // namespace

void RunContainerOp(const Op& op) {
  g_current_step = op.index;
  const std::string& k = op.name();
  if (k == "propagation") {
    if (mount(nullptr, "/", nullptr, MS_REC | static_cast<unsigned long>(op.num(1)), nullptr) < 0) Fail("mount", "/");
  } else if (k == "chdir") {
    if (chdir(op.arg(1).c_str()) < 0) Fail("chdir", op.arg(1));
  } else if (k == "mount") {
    Mount(op.arg(1), op.arg(2), op.arg(3), static_cast<unsigned long>(op.num(4)), op.arg(5), op.arg(2));
  } else if (k == "mount-overlay") {
    MountOverlay(op);
  } else if (k == "try-mount-overlay") {
    TryMountOverlay(op, MountOverlay);
  } else if (k == "mount-fuse-overlay") {
    MountFuseOverlay(op);
  } else if (k == "set-root") {
    g_root.Reset(open(op.arg(1).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!g_root.valid()) Fail("open", op.arg(1));
  } else if (k == "mount-in") {
    MountInRoot(op);
  } else if (k == "borrow-mount") {
    BorrowMount(op);
  } else if (k == "attach-borrowed-in") {
    if (!g_borrowed.valid()) throw std::runtime_error("plan: attach-borrowed-in without borrow-mount");
    Fd target = MustOpenInRoot(op.arg(1), O_PATH | O_DIRECTORY);
    if (syscall(SYS_move_mount, g_borrowed.get(), "", target.get(), "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      Fail("move_mount", op.arg(1));
    g_borrowed.Reset();
  } else if (k == "confine-in") {
    CheckConfined(op.arg(1));
  } else if (k == "mkdir-in") {
    MkdirInRoot(op.arg(1), static_cast<mode_t>(op.num(2)));
  } else if (k == "touch-in") {
    Fd f = MustOpenInRoot(op.arg(1), O_CREAT | O_WRONLY | O_NOCTTY, static_cast<mode_t>(op.num(2)));
  } else if (k == "mknod-in") {
    std::string parent, name;
    SplitParent(op.arg(1), parent, name);
    Fd dir = MustOpenInRoot(parent, O_PATH | O_DIRECTORY);
    dev_t dev = makedev(static_cast<unsigned>(op.num(3)), static_cast<unsigned>(op.num(4)));
    if (mknodat(dir.get(), name.c_str(), static_cast<mode_t>(op.num(2)), dev) < 0 && errno != EEXIST)
      Fail("mknodat", op.arg(1));
    // mknod honours the umask; set the mode the plan asked for.
    if (fchmodat(dir.get(), name.c_str(), static_cast<mode_t>(op.num(2)) & 07777, 0) < 0) Fail("fchmodat", op.arg(1));
  } else if (k == "symlink-in") {
    std::string parent, name;
    SplitParent(op.arg(2), parent, name);
    Fd dir = MustOpenInRoot(parent, O_PATH | O_DIRECTORY);
    if (symlinkat(op.arg(1).c_str(), dir.get(), name.c_str()) < 0 && errno != EEXIST) Fail("symlinkat", op.arg(2));
  } else if (k == "mask-in") {
    MaskInRoot(op.arg(1));
  } else if (k == "readonly-in") {
    ReadonlyInRoot(op.arg(1));
  } else if (k == "pivot") {
    PivotRoot(op.arg(1));
  } else if (k == "remount-root-ro") {
    if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0) Fail("mount", "/ (read-only)");
  } else if (k == "loopback-up") {
    BringLoopbackUp();
  } else if (k == "sethostname") {
    if (sethostname(op.arg(1).data(), op.arg(1).size()) < 0) Fail("sethostname", op.arg(1));
  } else if (k == "setdomainname") {
    if (setdomainname(op.arg(1).data(), op.arg(1).size()) < 0) Fail("setdomainname", op.arg(1));
  } else if (k == "sysctl-in") {
    WriteSysctlInRoot(op.arg(1), op.arg(2));
  } else if (k == "rlimit") {
    SetResourceLimit(op.arg(1), op.arg(2), op.arg(3));
  } else {
    throw std::runtime_error("plan: unknown container op " + k);
  }
}

}  // namespace ctr
