#include "util.hh"

#include <cstdio>
#include <cstring>
#include <sys/socket.h>

namespace ctr {

int g_current_step = -1;

void Fail(const char* syscall, const std::string& path) { throw SetupError{g_current_step, errno, syscall, path}; }

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::string ErrorEventFields(const char* phase, const SetupError& e) {
  return std::string("\"event\":\"error\",\"phase\":\"") + phase + "\",\"step\":" + std::to_string(e.step) +
         ",\"errno\":" + std::to_string(e.err) + ",\"syscall\":" + JsonString(e.syscall) +
         ",\"path\":" + JsonString(e.path);
}

std::string FatalEventFields(const std::exception& e) {
  return std::string("\"event\":\"fatal\",\"message\":") + JsonString(e.what());
}

int RunReportingErrors(int control_fd, const std::function<int()>& body) {
  try {
    return body();
  } catch (const SetupError& e) {
    SendEvent(control_fd, ErrorEventFields("setup", e));
    return 1;
  } catch (const std::exception& e) {
    SendEvent(control_fd, FatalEventFields(e));
    return 2;
  }
}

void SendEvent(int fd, const std::string& json_fields) {
  std::string line = "{" + json_fields + "}\n";
  // MSG_NOSIGNAL: a vanished peer must not kill us with SIGPIPE; we notice EOF elsewhere.
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOTSOCK) n = write(fd, line.data() + off, line.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

size_t ReadFull(int fd, void* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, static_cast<char*>(buf) + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

bool WriteFull(int fd, const void* buf, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(fd, static_cast<const char*>(buf) + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

ssize_t SendWithFd(int sock, const void* data, size_t n, int fd) {
  iovec iov{const_cast<void*>(data), n};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t sent;
  do sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  return sent;
}

ssize_t ReceiveWithFd(int sock, void* buf, size_t n, int* fd, int flags) {
  *fd = -1;
  iovec iov{buf, n};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got;
  do got = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got < 0) return got;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(fd, CMSG_DATA(c), sizeof(int));
  return got;
}

}  // namespace ctr
