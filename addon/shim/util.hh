// Small shared pieces of the helper: an owning fd, the setup error every step throws, and the
// JSON-lines channel to Node. The helper is single-threaded ordinary C++ (see RUNTIME-NOTES 1).
#pragma once
#include <cerrno>
#include <exception>
#include <functional>
#include <string>
#include <unistd.h>

namespace ctr {

// Owns one file descriptor (the C++ form of crun's cleanup_close).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept {
    Reset(other.Release());
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A failed step: which plan op (its index), the syscall, errno and the path it worked on.
struct SetupError {
  int step;
  int err;
  std::string syscall;
  std::string path;
};

// Throws SetupError for the current op with the current errno.
[[noreturn]] void Fail(const char* syscall, const std::string& path);

// The index of the plan op being carried out, for SetupError.
extern int g_current_step;

// Writes one JSON object line to fd (the control socket to Node). Values are already JSON.
void SendEvent(int fd, const std::string& json_fields);
std::string JsonString(const std::string& s);
std::string ErrorEventFields(const char* phase, const SetupError& e);
std::string FatalEventFields(const std::exception& e);

// Runs a role's body; a SetupError or other exception escaping it is reported on the control
// socket as an "error" (phase "setup") or "fatal" event, and becomes exit code 1 or 2.
int RunReportingErrors(int control_fd, const std::function<int()>& body);

// Sends n bytes as one message with `fd` attached (SCM_RIGHTS; nothing attached when fd < 0).
// Retries EINTR; returns sendmsg's result.
ssize_t SendWithFd(int sock, const void* data, size_t n, int fd);

// Receives one message of up to n bytes and the fd attached to it (close-on-exec; *fd is -1 when
// none). `flags` as recvmsg's (MSG_DONTWAIT, say). Retries EINTR; returns recvmsg's result.
ssize_t ReceiveWithFd(int sock, void* buf, size_t n, int* fd, int flags);

// Reads exactly n bytes unless EOF; returns bytes read.
size_t ReadFull(int fd, void* buf, size_t n);
bool WriteFull(int fd, const void* buf, size_t n);

}  // namespace ctr
