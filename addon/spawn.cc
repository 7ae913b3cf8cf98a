// Spawns bento-shim. posix_spawn is vfork-based, so its cost does not grow with Node's RSS
// (RUNTIME-NOTES section 8). It runs on one dedicated thread that lives as long as the process,
// because PR_SET_PDEATHSIG follows the creating *thread*: a shim spawned from a worker_threads
// Worker's thread would die when that Worker ends (verified in RUNTIME-NOTES section 7).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "errors.hh"
#include "facilities.hh"
#include "sealed-exe.hh"

namespace ctr {
namespace {

// What the caller wants at each of the child's fds 0..n-1.
struct ChildFd {
  enum Kind { kNull, kSocket, kInherit } kind;
  int fd;  // for kInherit: the parent's fd to pass
};

struct SpawnRequest {
  std::string file;
  std::vector<std::string> argv;
  std::vector<ChildFd> fds;
  int input_fd = -1;  // index of a "socket" fd whose parent end gets `input` before the spawn
  std::string input;
};

struct SpawnResult {
  int err = 0;
  const char* syscall = "";
  pid_t pid = -1;
  std::vector<int> parent_ends;  // for kSocket entries, else -1
  size_t input_written = 0;
};

// One long-lived thread runs every posix_spawn; callers block on a future (~1 ms).
class Spawner {
 public:
  static Spawner& Instance() {
    static Spawner* spawner = new Spawner();  // never destroyed: the thread must outlive all
    return *spawner;
  }

  SpawnResult Run(const SpawnRequest& req) {
    std::packaged_task<SpawnResult()> task([&req] { return SpawnNow(req); });
    std::future<SpawnResult> result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return result.get();
  }

 private:
  Spawner() {
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    // This thread must not take signals meant for Node's main thread.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    while (true) {
      std::packaged_task<SpawnResult()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  static SpawnResult SpawnNow(const SpawnRequest& req) {
    SpawnResult out;
    out.parent_ends.assign(req.fds.size(), -1);
    std::vector<int> child_ends(req.fds.size(), -1);
    std::string exe;
    if (!SealedExecutable(req.file, exe, out.err, out.syscall)) return out;
    auto close_all = [&](bool parent_too) {
      for (int fd : child_ends)
        if (fd >= 0) close(fd);
      if (parent_too)
        for (int& fd : out.parent_ends)
          if (fd >= 0) {
            close(fd);
            fd = -1;
          }
    };
    for (size_t i = 0; i < req.fds.size(); ++i) {
      if (req.fds[i].kind != ChildFd::kSocket) continue;
      int pair[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        out.err = errno;
        out.syscall = "socketpair";
        close_all(true);
        return out;
      }
      out.parent_ends[i] = pair[0];
      child_ends[i] = pair[1];
    }
    // The plan is in the socket before the helper runs, so its first read never waits for Node.
    if (req.input_fd >= 0 && out.parent_ends[req.input_fd] >= 0 && !req.input.empty()) {
      ssize_t n = send(out.parent_ends[req.input_fd], req.input.data(), req.input.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      out.input_written = n < 0 ? 0 : static_cast<size_t>(n);
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    for (size_t i = 0; i < req.fds.size(); ++i) {
      int target = static_cast<int>(i);
      switch (req.fds[i].kind) {
        case ChildFd::kNull:
          posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0);
          break;
        case ChildFd::kSocket:
          posix_spawn_file_actions_adddup2(&actions, child_ends[i], target);
          break;
        case ChildFd::kInherit:
          posix_spawn_file_actions_adddup2(&actions, req.fds[i].fd, target);
          break;
      }
    }
    // The shim starts with default dispositions and an empty mask: Node ignores SIGPIPE, and
    // SIG_IGN survives execve.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> argv;
    for (const std::string& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    char* envp[] = {nullptr};
    int rc = posix_spawn(&out.pid, exe.c_str(), &actions, &attr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close_all(rc != 0);
    if (rc != 0) {
      out.err = rc;
      out.syscall = "posix_spawn";
      out.pid = -1;
    }
    return out;
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<SpawnResult()>> queue_;
};

// Process-wide duplicates of helpers' control sockets, by pid. A Worker's sockets close when the
// Worker ends; this copy keeps the shim's control socket open (so the shim does not stop its
// container) until releaseHelper, or until the process dies.
std::mutex g_kept_mutex;
std::map<int, int> g_kept;

// spawnHelper({ file, argv, fds: ("null" | "socket" | number)[], keepOpen?: number,
//               input?: { fd: number, data: Buffer } })
//   -> { pid, pidfd, sockets: (number | null)[], inputWritten: number }
Napi::Value SpawnHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  SpawnRequest req;
  req.file = opts.Get("file").As<Napi::String>();
  Napi::Array argv = opts.Get("argv").As<Napi::Array>();
  for (uint32_t i = 0; i < argv.Length(); ++i) req.argv.push_back(argv.Get(i).As<Napi::String>());
  Napi::Array fds = opts.Get("fds").As<Napi::Array>();
  for (uint32_t i = 0; i < fds.Length(); ++i) {
    Napi::Value v = fds.Get(i);
    if (v.IsNumber()) req.fds.push_back({ChildFd::kInherit, v.As<Napi::Number>().Int32Value()});
    else if (v.As<Napi::String>().Utf8Value() == "socket") req.fds.push_back({ChildFd::kSocket, -1});
    else req.fds.push_back({ChildFd::kNull, -1});
  }
  Napi::Value input = opts.Get("input");
  if (input.IsObject()) {
    Napi::Object in = input.As<Napi::Object>();
    req.input_fd = in.Get("fd").As<Napi::Number>().Int32Value();
    Napi::Buffer<char> data = in.Get("data").As<Napi::Buffer<char>>();
    req.input.assign(data.Data(), data.Length());
  }
  SpawnResult r = Spawner::Instance().Run(req);
  if (r.err) throw SystemError(env, r.err, r.syscall, req.file);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, r.pid, 0));
  if (pidfd < 0) {
    int err = errno;
    kill(r.pid, SIGKILL);
    for (int fd : r.parent_ends)
      if (fd >= 0) close(fd);
    throw SystemError(env, err, "pidfd_open", req.file);
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  Napi::Value keep = opts.Get("keepOpen");
  if (keep.IsNumber()) {
    size_t index = keep.As<Napi::Number>().Uint32Value();
    if (index < r.parent_ends.size() && r.parent_ends[index] >= 0) {
      int copy = fcntl(r.parent_ends[index], F_DUPFD_CLOEXEC, 3);
      std::lock_guard<std::mutex> lock(g_kept_mutex);
      if (copy >= 0) g_kept[r.pid] = copy;
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, r.pid));
  result.Set("pidfd", Napi::Number::New(env, pidfd));
  Napi::Array sockets = Napi::Array::New(env, r.parent_ends.size());
  for (size_t i = 0; i < r.parent_ends.size(); ++i)
    sockets.Set(i, r.parent_ends[i] >= 0 ? Napi::Value(Napi::Number::New(env, r.parent_ends[i])) : env.Null());
  result.Set("sockets", sockets);
  result.Set("inputWritten", Napi::Number::New(env, static_cast<double>(r.input_written)));
  return result;
}

// releaseHelper(pid): closes the process-wide copy of that helper's control socket.
Napi::Value ReleaseHelper(const Napi::CallbackInfo& info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  std::lock_guard<std::mutex> lock(g_kept_mutex);
  auto it = g_kept.find(pid);
  if (it != g_kept.end()) {
    close(it->second);
    g_kept.erase(it);
  }
  return info.Env().Undefined();
}

}  // namespace

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnHelper", Napi::Function::New(env, SpawnHelper, "spawnHelper"));
  exports.Set("releaseHelper", Napi::Function::New(env, ReleaseHelper, "releaseHelper"));
}

}  // namespace ctr
