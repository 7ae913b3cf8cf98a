#include "ports.hh"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "userns.hh"
#include "util.hh"

namespace ctr {
namespace {

// Request: "tcp <port>\n" (fixed 16 bytes, NUL padded). Reply: int32 errno (0 = ok), with the
// connected socket attached as SCM_RIGHTS when ok.
constexpr size_t kRequestSize = 16;

bool Reply(int channel, int err, int fd) {
  int32_t code = err;
  return SendWithFd(channel, &code, sizeof code, fd) == sizeof code;
}

// Non-blocking: a server whose accept queue is full makes the kernel retry the SYN for seconds,
// and the shim must not stop serving logs and other connections meanwhile. The socket goes to
// Node still connecting; Node's writes wait for it, and a refusal surfaces there as an error.
int ConnectTo(int family, int port, int& err, int type = SOCK_STREAM) {
  int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  sockaddr_storage a;
  socklen_t len = LoopbackAddress(family, port, a);
  int rc;
  do rc = connect(fd, reinterpret_cast<sockaddr*>(&a), len);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EINPROGRESS) {
    err = errno;
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

socklen_t LoopbackAddress(int family, int port, sockaddr_storage& out) {
  out = sockaddr_storage{};
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&out);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(static_cast<uint16_t>(port));
  a->sin6_addr = in6addr_loopback;
  return sizeof(sockaddr_in6);
}

bool PortService::Open(pid_t init) {
  std::string path = "/proc/" + std::to_string(init) + "/ns/net";
  container_ns_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  host_ns_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  return container_ns_ >= 0 && host_ns_ >= 0;
}

namespace {

// Connects to the loopback `port` of the network namespace we are in; a server listening on
// ::1 only is reached too.
int ConnectHere(int port, int& err, int type) {
  int fd = ConnectTo(AF_INET, port, err, type);
  if (fd < 0 && err == ECONNREFUSED) {
    int err6 = 0;
    fd = ConnectTo(AF_INET6, port, err6, type);
  }
  return fd;
}

// Receives a Reply(): the errno, and the socket when it is 0.
int ReceiveReply(int channel, int& err) {
  int32_t code = EPIPE;
  int fd = -1;
  if (ReceiveWithFd(channel, &code, sizeof code, &fd, 0) != sizeof code) code = EPIPE;
  err = code;
  if (code == 0) return fd;
  if (fd >= 0) close(fd);
  return -1;
}

// A shim in a rootless user namespace may enter the container's network namespace (its user
// namespace owns it) but never come back to the host's, which the initial one owns: a child
// enters instead, connects, and hands the socket back.
int ConnectFromChild(int container_ns, int port, int& err, int type) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
    err = errno;
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(sp[0]);
    int child_err = 0, fd = -1;
    if (setns(container_ns, CLONE_NEWNET) < 0) child_err = errno;
    else fd = ConnectHere(port, child_err, type);
    Reply(sp[1], fd >= 0 ? 0 : child_err, fd);
    _exit(0);
  }
  close(sp[1]);
  int fd = -1;
  if (pid < 0) err = errno;
  else fd = ReceiveReply(sp[0], err);
  close(sp[0]);
  if (pid > 0) waitpid(pid, nullptr, 0);
  return fd;
}

}  // namespace

// A socket belongs to the namespace it was created in, whatever the creator does after; so
// enter, create, and come back (RUNTIME-NOTES section 6). The shim is single-threaded, so the
// switch cannot affect anything else.
int PortService::ConnectInside(int port, int& err, int type) {
  if (type == 0) type = SOCK_STREAM;
  if (container_ns_ < 0) {
    err = ENOTCONN;
    return -1;
  }
  if (InJoinedUserNamespace()) return ConnectFromChild(container_ns_, port, err, type);
  if (setns(container_ns_, CLONE_NEWNET) < 0) {
    err = errno;
    return -1;
  }
  int fd = ConnectHere(port, err, type);
  if (setns(host_ns_, CLONE_NEWNET) < 0) {
    // Staying in the container's namespace would be wrong for everything after: give up.
    _exit(70);
  }
  return fd;
}

bool PortService::Serve(int channel) {
  char request[kRequestSize + 1] = {};
  size_t n = ReadFull(channel, request, kRequestSize);
  if (n != kRequestSize) return false;
  int port = 0;
  int err = EINVAL;
  int fd = -1;
  if (std::strncmp(request, "tcp ", 4) == 0) {
    port = std::atoi(request + 4);
    if (port > 0 && port < 65536) {
      if (container_ns_ < 0) err = ENOTCONN;
      else fd = ConnectInside(port, err);
    }
  }
  bool ok = Reply(channel, fd >= 0 ? 0 : err, fd);
  if (fd >= 0) close(fd);
  return ok;
}

}  // namespace ctr
