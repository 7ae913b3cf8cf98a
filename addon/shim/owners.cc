// Rootless: giving files to other owners. Node writes files as the user (container root); only
// root of the user namespace may hand them to the subordinate ids, so this role joins it and
// sets the owners Node decided.
//
//   bento-shim owners <parent pid>   "lchown <root> <path> <uid> <gid>" per file, ids as the
//                                    container sees them (the namespace's map turns them into
//                                    the host's subordinate ids)
//
// And the reverse, to read files that container users made (a layer from an upper dir):
//   "copy <from> <to>"      cp -a from/. into to, owners and xattrs kept (a running container's
//                           upper dir is never changed)
//   "take <dir> <manifest>" writes each entry's path, owner, mode and file capability to the
//                           manifest, then makes it the user's and readable by them, so Node can
//                           read the tree and still record what the container gave it
//   "put <staged> <path> into|as <upper> <work> <lower>..."
//                           copies a staged tree into a stopped container (see Put)
//   "setcap <root> <path> <hex>"
//                           sets a file's security.capability (after its lchown, which clears
//                           it), the value in the v2 form a layer carries
//   "stage <to> take|keep <path> <dir>..."
//                           copies what `path` names in the view of the dirs (a stopped
//                           container's upper dir and image layers, top first, mounted as a
//                           read-only overlay; or one dir, a volume) to the new path `to`,
//                           modes and times kept, owners the user's ("take": copying out of a
//                           stopped container) or as they were ("keep": filling a volume from
//                           an image). `path` is resolved as the container would, never
//                           leaving the view (openat2 RESOLVE_IN_ROOT); its last name is not
//                           followed.
#include <fcntl.h>
#include <ftw.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "overlay-view.hh"
#include "put.hh"
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

constexpr char kCapability[] = "security.capability";

std::string Hex(const unsigned char* data, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; i++) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

// A regular file's capability xattr, hex, or "". Read by the namespace's root, the kernel gives
// a v3 value whose root id is that root as v2 (no root id), the form a layer carries and any
// other namespace's root turns back into its own v3 when it writes it (capabilities(7), "File
// capability extended attribute versioning").
std::string ReadCapability(const char* path, const struct stat* st) {
  if (!S_ISREG(st->st_mode)) return "";
  unsigned char value[64];
  ssize_t size = lgetxattr(path, kCapability, value, sizeof value);
  if (size < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return "";
    Fail("lgetxattr(security.capability)", path);
  }
  return Hex(value, static_cast<size_t>(size));
}

// Sets `rel`'s capability xattr to the v2 value `hex`; the kernel stores it as v3 with this
// namespace's root as its root id, so it gives privileges only to processes of this namespace.
void SetCapability(const std::string& root, const std::string& rel, const std::string& hex) {
  Fd f = OpenNoFollowInRoot(root, rel);
  struct stat st;
  if (fstat(f.get(), &st) < 0) Fail("fstat", rel);
  std::vector<unsigned char> value;
  auto nibble = [](char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    value.push_back(static_cast<unsigned char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  if (!S_ISREG(st.st_mode) || value.empty() || hex.size() % 2 != 0) {
    errno = EINVAL;
    Fail("setcap", rel);
  }
  std::string fd_path = "/proc/self/fd/" + std::to_string(f.get());
  if (setxattr(fd_path.c_str(), kCapability, value.data(), value.size(), 0) < 0)
    Fail("setxattr(security.capability)", rel);
}

FILE* g_manifest = nullptr;
size_t g_root_length = 0;

// What a file had before it was taken (lchown clears a capability): hard-linked names after the
// first record that, not what the first one left.
struct Before {
  struct stat st;
  std::string capability;
};
std::map<std::pair<dev_t, ino_t>, Before> g_linked;

// One manifest record: path relative to the tree, uid, gid, mode (octal), capability (hex or
// empty), each ended by a NUL.
int TakeEntry(const char* path, const struct stat* seen, int, struct FTW* ftw) {
  Before own{*seen, ""};
  Before* before = &own;
  if (!S_ISDIR(seen->st_mode) && seen->st_nlink > 1) {
    auto [it, first] = g_linked.try_emplace({seen->st_dev, seen->st_ino}, own);
    before = &it->second;
    if (first) before->capability = ReadCapability(path, seen);
  } else {
    own.capability = ReadCapability(path, seen);
  }
  const struct stat* st = &before->st;
  if (ftw->level > 0) {
    std::string record = std::string(path + g_root_length + 1) + '\0' + std::to_string(st->st_uid) + '\0' +
                         std::to_string(st->st_gid) + '\0' + std::to_string(st->st_mode & 07777) + '\0' +
                         before->capability + '\0';
    if (fwrite(record.data(), 1, record.size(), g_manifest) != record.size()) Fail("write", "manifest");
  }
  if ((st->st_uid != 0 || st->st_gid != 0) && lchown(path, 0, 0) < 0) Fail("lchown", path);
  if (S_ISLNK(st->st_mode)) return 0;
  mode_t readable = (st->st_mode & 07777) | (S_ISDIR(st->st_mode) ? 0700 : 0600);
  if (chmod(path, readable) < 0) Fail("chmod", path);
  return 0;
}

void TakeTree(const std::string& dir, const std::string& manifest) {
  Fd out(open(manifest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) Fail("open", manifest);
  g_manifest = fdopen(out.get(), "w");
  if (!g_manifest) Fail("fdopen", manifest);
  out.Release();
  g_root_length = dir.size();
  g_linked.clear();
  if (nftw(dir.c_str(), TakeEntry, 64, FTW_PHYS | FTW_MOUNT) < 0) Fail("nftw", dir);
  if (fclose(g_manifest) != 0) Fail("fclose", manifest);
  g_manifest = nullptr;
}

// cp from coreutils, run as root of the user namespace: it reads every file a container user
// made and gives the copies the same owners, modes, times and xattrs.
void CopyTree(const std::string& from, const std::string& to) {
  pid_t pid = fork();
  if (pid < 0) Fail("fork", from);
  if (pid == 0) {
    std::string source = from + "/.";
    execlp("cp", "cp", "-a", "--reflink=auto", source.c_str(), to.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) Fail("waitpid", from);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = EIO;
    Fail("cp -a", from);
  }
}

// Makes every entry of our fresh copy the user's (root of the namespace), keeping setuid and
// setgid bits, which chown clears.
int OwnEntry(const char* path, const struct stat* st, int, struct FTW*) {
  if (st->st_uid == 0 && st->st_gid == 0) return 0;
  if (lchown(path, 0, 0) < 0) Fail("lchown", path);
  if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) && chmod(path, st->st_mode & 07777) < 0)
    Fail("chmod", path);
  return 0;
}

void Stage(const Op& op) {
  const std::string& to = op.arg(1);
  const std::string& owners = op.arg(2);
  std::string path = op.arg(3);
  if (op.args.size() < 5 || to.empty() || to[0] != '/' || (owners != "take" && owners != "keep")) {
    errno = EINVAL;
    Fail("stage", to);
  }
  Fd view = OpenView(std::vector<std::string>(op.args.begin() + 4, op.args.end()));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  // A ".." last name would leave a one-dir view through cp's own lookup: Node resolves it first.
  if (name == "..") {
    errno = EINVAL;
    Fail("stage", path);
  }
  if (name.empty()) name = ".";
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = syscall(SYS_openat2, view.get(), parent.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) Fail("openat2", path);
  Fd dir(static_cast<int>(fd));
  struct stat st;
  if (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) Fail("fstatat", path);
  // cp works from inside the view's directory, by a name it does not follow (-a: -P), so no
  // symlink in the container's tree leads it out.
  pid_t pid = fork();
  if (pid < 0) Fail("fork", path);
  if (pid == 0) {
    if (fchdir(dir.get()) < 0) _exit(126);
    execlp("cp", "cp", "-a", "--reflink=auto", "--", name.c_str(), to.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) Fail("waitpid", path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = EIO;
    Fail("cp -a", path);
  }
  if (owners == "take" && nftw(to.c_str(), OwnEntry, 64, FTW_PHYS | FTW_MOUNT) < 0) Fail("nftw", to);
}

}  // namespace

int RunOwners() {
  return RunReportingErrors(kControlFd, [] {
    Plan plan = ReadPlan(kControlFd);
    JoinUserNamespace(plan);
    for (const Op& op : plan.settings) {
      g_current_step = op.index;
      if (op.name() == "lchown")
        SetOwner(op.arg(1), op.arg(2), static_cast<uid_t>(op.num(3)), static_cast<gid_t>(op.num(4)));
      else if (op.name() == "copy") CopyTree(op.arg(1), op.arg(2));
      else if (op.name() == "take") TakeTree(op.arg(1), op.arg(2));
      else if (op.name() == "stage") Stage(op);
      else if (op.name() == "setcap") SetCapability(op.arg(1), op.arg(2), op.arg(3));
      else if (op.name() == "put") Put(op);
    }
    SendEvent(kControlFd, "\"event\":\"ready\"");
    return 0;
  });
}

}  // namespace ctr
