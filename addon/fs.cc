// File-system primitives Node's fs lacks, used to unpack image layers in overlay form and to read
// an overlay upper dir back into a layer: mknod(2) (whiteouts are char 0/0 devices; fifos and
// device nodes), the l*xattr(2) family (overlay's opaque marker, file capabilities), and
// syncfs(2) (an unpacked layer reaches the disk before it is renamed into place). All but one
// are synchronous: each is one short system call on a local path; removeTree deletes a whole
// directory tree (a removed container's) in one thread-pool job. The l* variants never follow a
// final symlink, so a layer's symlinks are never dereferenced here. Policy (which xattrs to keep,
// which ids to use, whether a node may be created at all) is decided in TypeScript.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "errors.hh"
#include "facilities.hh"

namespace ctr {
namespace {

// Owns a file descriptor; closes it on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string PathArg(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsString()) throw Napi::TypeError::New(info.Env(), "path must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

std::string NameArg(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsString()) throw Napi::TypeError::New(info.Env(), "xattr name must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

// mknod(path, mode, dev): mode carries the file type (S_IFCHR, S_IFBLK, S_IFIFO) and permission
// bits; dev is the encoded device number (a Number or a BigInt), ignored for fifos.
Napi::Value Mknod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info, 0);
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "mode must be a number");
  auto mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  dev_t dev = 0;
  if (info[2].IsBigInt()) {
    bool lossless = true;
    dev = static_cast<dev_t>(info[2].As<Napi::BigInt>().Uint64Value(&lossless));
    if (!lossless) throw Napi::RangeError::New(env, "dev does not fit in dev_t");
  } else if (info[2].IsNumber()) {
    dev = static_cast<dev_t>(info[2].As<Napi::Number>().Int64Value());
  } else {
    throw Napi::TypeError::New(env, "dev must be a number or a bigint");
  }
  if (mknod(path.c_str(), mode, dev) != 0) throw SystemError(env, errno, "mknod", path);
  return env.Undefined();
}

// lsetxattr(path, name, value): sets or replaces the attribute; never follows a final symlink.
Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info, 0);
  std::string name = NameArg(info, 1);
  if (!info[2].IsBuffer()) throw Napi::TypeError::New(env, "value must be a Buffer");
  auto value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) != 0) {
    throw SystemError(env, errno, "lsetxattr", path);
  }
  return env.Undefined();
}

// lgetxattr(path, name) -> Buffer, or null when the file has no such attribute (ENODATA).
// The size can change between the probe and the read (another writer); ERANGE means retry.
Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info, 0);
  std::string name = NameArg(info, 1);
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t size = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA) return env.Null();
      throw SystemError(env, errno, "lgetxattr", path);
    }
    std::vector<char> buffer(static_cast<size_t>(size));
    ssize_t got = lgetxattr(path.c_str(), name.c_str(), buffer.data(), buffer.size());
    if (got >= 0) return Napi::Buffer<char>::Copy(env, buffer.data(), static_cast<size_t>(got));
    if (errno == ENODATA) return env.Null();
    if (errno != ERANGE) throw SystemError(env, errno, "lgetxattr", path);
  }
  throw SystemError(env, ERANGE, "lgetxattr", path);
}

// llistxattr(path) -> string[]: the names in the kernel's order (the TS side sorts if it cares).
Napi::Value Llistxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info, 0);
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t size = llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) throw SystemError(env, errno, "llistxattr", path);
    std::vector<char> buffer(static_cast<size_t>(size));
    ssize_t got = size == 0 ? 0 : llistxattr(path.c_str(), buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == ERANGE) continue;
      throw SystemError(env, errno, "llistxattr", path);
    }
    Napi::Array names = Napi::Array::New(env);
    uint32_t count = 0;
    for (ssize_t start = 0; start < got;) {
      std::string name(buffer.data() + start);
      start += static_cast<ssize_t>(name.size()) + 1;
      if (!name.empty()) names.Set(count++, Napi::String::New(env, name));
    }
    return names;
  }
  throw SystemError(env, ERANGE, "llistxattr", path);
}

// syncfs(path): writes out the whole file system that holds `path` (one call instead of an
// fsync per file of a freshly unpacked layer).
Napi::Value Syncfs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = PathArg(info, 0);
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY));
  if (fd.get() < 0) throw SystemError(env, errno, "open", path);
  if (syncfs(fd.get()) != 0) throw SystemError(env, errno, "syncfs", path);
  return env.Undefined();
}

// Deletes the entry `name` of the directory `dirfd`, a directory with everything under it. Never
// follows a symlink: entries are reached through directory fds opened O_NOFOLLOW, so a link a
// container left is removed itself, not what it names. Returns 0, or the errno of the first
// failure with `syscall` and `path` set (the caller falls back to Node's rm, which then reports
// or handles it).
// `is_dir`: readdir said so, so the unlink that would fail is skipped.
int RemoveAt(int dirfd, const std::string& name, const std::string& path, bool is_dir, const char** syscall,
             std::string* failed) {
  if (!is_dir && (unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT)) return 0;
  // unlink(2) of a directory is EISDIR on Linux; anything else is a real failure.
  if (!is_dir && errno != EISDIR) {
    *syscall = "unlink";
    *failed = path;
    return errno;
  }
  int fd = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    *syscall = "open";
    *failed = path;
    return errno;
  }
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    close(fd);
    *syscall = "fdopendir";
    *failed = path;
    return err;
  }
  int err = 0;
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    std::string child = entry->d_name;
    if (child == "." || child == "..") continue;
    if ((err = RemoveAt(::dirfd(dir), child, path + "/" + child, entry->d_type == DT_DIR, syscall, failed)) != 0) break;
    errno = 0;
  }
  if (err == 0 && errno != 0) {
    err = errno;
    *syscall = "readdir";
    *failed = path;
  }
  closedir(dir);
  if (err != 0) return err;
  if (unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    *syscall = "rmdir";
    *failed = path;
    return errno;
  }
  return 0;
}

// Deleting a container's directory with Node's fs.rm costs a thread-pool round trip per entry
// (each an event-loop wakeup: about 200 system calls for a dozen entries, measured with strace);
// this worker deletes the whole tree in one job.
class RemoveTreeWorker : public Napi::AsyncWorker {
 public:
  RemoveTreeWorker(Napi::Env env, std::string path)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { err_ = RemoveAt(AT_FDCWD, path_, path_, false, &syscall_, &failed_); }

  void OnOK() override {
    if (err_) deferred_.Reject(SystemError(Env(), err_, syscall_, failed_).Value());
    else deferred_.Resolve(Env().Undefined());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  int err_ = 0;
  const char* syscall_ = "";
  std::string failed_;
};

// removeTree(path) -> Promise<void>: deletes `path` (a missing one is not an error).
Napi::Value RemoveTree(const Napi::CallbackInfo& info) {
  auto* worker = new RemoveTreeWorker(info.Env(), PathArg(info, 0));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitFs(Napi::Env env, Napi::Object exports) {
  exports.Set("mknod", Napi::Function::New(env, Mknod, "mknod"));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr, "lsetxattr"));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr, "llistxattr"));
  exports.Set("syncfs", Napi::Function::New(env, Syncfs, "syncfs"));
  exports.Set("removeTree", Napi::Function::New(env, RemoveTree, "removeTree"));
}

}  // namespace ctr
