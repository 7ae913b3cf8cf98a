// flock(2), which Node's fs lacks. A container's lock is held by the process that owns it (and
// by its shim, which inherits the same open file description); the kernel drops it when both
// are gone, which is how the sweep knows a container's owner died.
#include <sys/file.h>

#include "errors.hh"
#include "facilities.hh"

namespace ctr {
namespace {

// flock(fd, "exclusive" | "shared" | "unlock", wait) -> true, or false when it would block.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string mode = info[1].As<Napi::String>();
  bool wait = info[2].As<Napi::Boolean>();
  int op = mode == "exclusive" ? LOCK_EX : mode == "shared" ? LOCK_SH : LOCK_UN;
  if (!wait) op |= LOCK_NB;
  int rc;
  do rc = flock(fd, op);
  while (rc < 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  throw SystemError(env, errno, "flock");
}

}  // namespace

void InitLock(Napi::Env env, Napi::Object exports) { exports.Set("flock", Napi::Function::New(env, Flock, "flock")); }

}  // namespace ctr
