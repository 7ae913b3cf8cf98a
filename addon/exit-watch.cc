// Reaps one child through its pidfd, polled by libuv: never waitpid(-1) and never a SIGCHLD
// handler, both of which would steal libuv's own children (RUNTIME-NOTES section 1).
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <csignal>

#include "errors.hh"
#include "facilities.hh"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace ctr {
namespace {

struct Watch {
  uv_poll_t poll;
  int pidfd;
  Napi::Env env;
  Napi::FunctionReference callback;
};

void OnClosed(uv_handle_t* handle) { delete static_cast<Watch*>(handle->data); }

void OnReadable(uv_poll_t* handle, int status, int) {
  Watch* w = static_cast<Watch*>(handle->data);
  siginfo_t info{};
  if (status == 0 &&
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w->pidfd), &info, WEXITED | WNOHANG) == 0 &&
      info.si_pid == 0)
    return;  // spurious wake-up: not exited yet
  uv_poll_stop(handle);
  close(w->pidfd);
  Napi::HandleScope scope(w->env);
  Napi::Object result = Napi::Object::New(w->env);
  bool exited = info.si_code == CLD_EXITED;
  result.Set("exitCode", exited ? Napi::Value(Napi::Number::New(w->env, info.si_status)) : w->env.Null());
  result.Set("signal", exited ? w->env.Null() : Napi::Value(Napi::Number::New(w->env, info.si_status)));
  w->callback.MakeCallback(w->env.Global(), {result});
  uv_close(reinterpret_cast<uv_handle_t*>(handle), OnClosed);
}

// watchExit(pidfd, callback({ exitCode, signal })). The handle keeps Node alive until the child
// is reaped, so callers start watching once the child is known to be exiting.
Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "watchExit: no event loop");
  Watch* w = new Watch{{}, pidfd, env, Napi::Persistent(info[1].As<Napi::Function>())};
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc != 0) {
    delete w;
    throw SystemError(env, -rc, "uv_poll_init");
  }
  uv_poll_start(&w->poll, UV_READABLE, OnReadable);
  return env.Undefined();
}

}  // namespace

void InitExitWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
}

}  // namespace ctr
