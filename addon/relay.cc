// The data path of published TCP ports: one native thread moves bytes between each client
// socket and its in-container socket with splice(2) through a pipe, so data never enters
// JavaScript (issue 5: Node's own piping reached a third of loopback's throughput here).
// Half-close travels through (EOF on one side becomes shutdown(SHUT_WR) on the other); an error
// on either side closes both.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "errors.hh"
#include "facilities.hh"

namespace ctr {
namespace {

constexpr size_t kChunk = 1 << 20;

struct Direction {
  int from;
  int to;
  int pipe_r = -1;
  int pipe_w = -1;
  size_t buffered = 0;
  bool eof = false;
  bool shut = false;
};

struct Connection {
  int a;
  int b;
  Direction ab;
  Direction ba;
  ~Connection() {
    for (int fd : {a, b, ab.pipe_r, ab.pipe_w, ba.pipe_r, ba.pipe_w})
      if (fd >= 0) close(fd);
  }
};

enum class Progress { kMore, kBlocked, kFailed };

// Moves what can move now; ends with the direction drained, blocked, or failed.
Progress Pump(Direction& d) {
  while (true) {
    bool moved = false;
    if (d.buffered == 0 && !d.eof) {
      ssize_t n = splice(d.from, nullptr, d.pipe_w, nullptr, kChunk, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) {
        d.buffered += static_cast<size_t>(n);
        moved = true;
      } else if (n == 0) {
        d.eof = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        return Progress::kFailed;
      }
    }
    if (d.buffered > 0) {
      ssize_t n = splice(d.pipe_r, nullptr, d.to, nullptr, d.buffered, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) {
        d.buffered -= static_cast<size_t>(n);
        moved = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return Progress::kFailed;
      }
    }
    if (d.eof && d.buffered == 0 && !d.shut) {
      shutdown(d.to, SHUT_WR);
      d.shut = true;
    }
    if (!moved) return Progress::kBlocked;
  }
}

class Relay {
 public:
  static Relay& Instance() {
    static Relay* relay = new Relay();  // lives as long as the process, as its thread does
    return *relay;
  }

  int Add(int a, int b) {
    auto c = std::make_unique<Connection>();
    c->a = a;
    c->b = b;
    c->ab.from = c->ba.to = a;
    c->ab.to = c->ba.from = b;
    int p1[2], p2[2];
    if (pipe2(p1, O_NONBLOCK | O_CLOEXEC) < 0) return errno;
    if (pipe2(p2, O_NONBLOCK | O_CLOEXEC) < 0) {
      int err = errno;
      close(p1[0]);
      close(p1[1]);
      return err;
    }
    c->ab.pipe_r = p1[0];
    c->ab.pipe_w = p1[1];
    c->ba.pipe_r = p2[0];
    c->ba.pipe_w = p2[1];
    fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
    fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
    std::lock_guard<std::mutex> lock(mutex_);
    Connection* raw = c.get();
    connections_[raw] = std::move(c);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = raw;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, a, &ev);
    epoll_ctl(epoll_, EPOLL_CTL_ADD, b, &ev);
    return 0;
  }

 private:
  Relay() : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    epoll_event events[64];
    while (true) {
      int n = epoll_wait(epoll_, events, 64, -1);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Connection*>(events[i].data.ptr);
        std::lock_guard<std::mutex> lock(mutex_);
        if (!connections_.count(c)) continue;  // closed earlier in this batch
        bool failed = (events[i].events & EPOLLERR) != 0;
        if (!failed) failed = Pump(c->ab) == Progress::kFailed || Pump(c->ba) == Progress::kFailed;
        bool done = c->ab.shut && c->ba.shut;
        if (failed || done) connections_.erase(c);  // closing both ends tells both peers
      }
    }
  }

  int epoll_;
  std::mutex mutex_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

// relay(clientFd, upstreamFd): the relay thread takes over copies of both sockets; the caller
// closes its own handles.
Napi::Value RelayPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int a = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 3);
  if (a < 0) throw SystemError(env, errno, "dup", "client socket");
  int b = fcntl(info[1].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 3);
  if (b < 0) {
    int err = errno;
    close(a);
    throw SystemError(env, err, "dup", "container socket");
  }
  int err = Relay::Instance().Add(a, b);
  if (err) {
    close(a);
    close(b);
    throw SystemError(env, err, "pipe2", "relay");
  }
  return env.Undefined();
}

}  // namespace

void InitRelay(Napi::Env env, Napi::Object exports) {
  exports.Set("relay", Napi::Function::New(env, RelayPair, "relay"));
}

}  // namespace ctr
