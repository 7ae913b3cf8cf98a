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
//   "take <dir> <manifest>" writes each entry's path, owner and mode to the manifest, then makes
//                           it the user's and readable by them, so Node can read the tree and
//                           still record the owners and modes the container gave it
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
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

FILE* g_manifest = nullptr;
size_t g_root_length = 0;

// One manifest record: path relative to the tree, uid, gid, mode (octal), each ended by a NUL.
int TakeEntry(const char* path, const struct stat* st, int, struct FTW* ftw) {
  if (ftw->level > 0) {
    std::string record = std::string(path + g_root_length + 1) + '\0' + std::to_string(st->st_uid) + '\0' +
                         std::to_string(st->st_gid) + '\0' + std::to_string(st->st_mode & 07777) + '\0';
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
    }
    SendEvent(kControlFd, "\"event\":\"ready\"");
    return 0;
  });
}

}  // namespace ctr
