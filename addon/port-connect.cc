// Asks a container's shim for a TCP connection made inside the container's network namespace,
// and receives the connected socket (SCM_RIGHTS). Runs off the main thread; requests on one
// channel are serialized so replies cannot cross.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "errors.hh"
#include "facilities.hh"

namespace ctr {
namespace {

std::mutex g_channels_mutex;
std::map<int, std::shared_ptr<std::mutex>> g_channel_locks;

std::shared_ptr<std::mutex> ChannelLock(int fd) {
  std::lock_guard<std::mutex> lock(g_channels_mutex);
  auto& m = g_channel_locks[fd];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

class ConnectWorker : public Napi::AsyncWorker {
 public:
  ConnectWorker(Napi::Env env, int channel, int port)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), channel_(channel), port_(port) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    auto lock = ChannelLock(channel_);
    std::lock_guard<std::mutex> guard(*lock);
    char request[16] = {};
    snprintf(request, sizeof request, "tcp %d", port_);
    if (send(channel_, request, sizeof request, MSG_NOSIGNAL) != sizeof request) {
      err_ = errno ? errno : EPIPE;
      syscall_ = "send";
      return;
    }
    int32_t code = 0;
    iovec iov{&code, sizeof code};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do n = recvmsg(channel_, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n != sizeof code) {
      err_ = n < 0 ? errno : EPIPE;
      syscall_ = "recvmsg";
      return;
    }
    if (code != 0) {
      err_ = code;
      syscall_ = "connect";
      return;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(&fd_, CMSG_DATA(c), sizeof fd_);
    if (fd_ < 0) {
      err_ = EBADMSG;
      syscall_ = "recvmsg";
    }
  }

  void OnOK() override {
    if (err_) deferred_.Reject(SystemError(Env(), err_, syscall_, "127.0.0.1:" + std::to_string(port_)).Value());
    else deferred_.Resolve(Napi::Number::New(Env(), fd_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  int channel_;
  int port_;
  int fd_ = -1;
  int err_ = 0;
  const char* syscall_ = "";
};

// connectInContainer(channelFd, port) -> Promise<fd>
Napi::Value ConnectInContainer(const Napi::CallbackInfo& info) {
  auto* worker =
      new ConnectWorker(info.Env(), info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// closeChannel(channelFd): closes the channel and drops its lock. Closed here, not with fs:
// Node warns when a worker thread closes an fd its fs did not open.
Napi::Value CloseChannel(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::lock_guard<std::mutex> lock(g_channels_mutex);
  auto it = g_channel_locks.find(fd);
  if (it != g_channel_locks.end()) {
    std::lock_guard<std::mutex> busy(*it->second);  // no request is half-way on this fd
    close(fd);
    g_channel_locks.erase(it);
  } else {
    close(fd);
  }
  return info.Env().Undefined();
}

}  // namespace

void InitPortConnect(Napi::Env env, Napi::Object exports) {
  exports.Set("connectInContainer", Napi::Function::New(env, ConnectInContainer, "connectInContainer"));
  exports.Set("closeChannel", Napi::Function::New(env, CloseChannel, "closeChannel"));
}

}  // namespace ctr
