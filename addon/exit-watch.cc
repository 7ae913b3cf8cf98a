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
  // Registered for the watch's lifetime: when the env ends first (a worker thread terminated
  // while its container was exiting), its cleanup closes the handle, so no callback runs into a
  // dying env and the worker's loop closes with none of our handles open.
  napi_async_cleanup_hook_handle cleanup = nullptr;
};

void OnClosed(uv_handle_t* handle) {
  Watch* w = static_cast<Watch*>(handle->data);
  napi_remove_async_cleanup_hook(w->cleanup);
  delete w;
}

void Close(Watch* w) {
  uv_poll_stop(&w->poll);
  close(w->pidfd);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
}

void OnEnvCleanup(napi_async_cleanup_hook_handle, void* data) {
  Watch* w = static_cast<Watch*>(data);
  // Already closing: OnReadable delivered the exit and OnClosed ends the hook.
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&w->poll))) return;
  // Reaped here if it has exited; a helper still running outlives the env, as the container a
  // worker started does (the process's exit hook ends it).
  siginfo_t info{};
  waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w->pidfd), &info, WEXITED | WNOHANG);
  Close(w);
}

void Deliver(Watch* w, const siginfo_t& info) {
  // A raw libuv callback, so no C++ exception may leave it (std::terminate), and the env may be
  // one that can no longer run JS (a worker being terminated): plain node-api calls, whose
  // failure drops the result. An exception the callback threw goes to Node as any async
  // callback's does (uncaughtException).
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  bool exited = info.si_code == CLD_EXITED;
  napi_value result, code, signal, null, global, callback;
  if (napi_create_object(env, &result) == napi_ok && napi_get_null(env, &null) == napi_ok &&
      napi_create_int32(env, info.si_status, exited ? &code : &signal) == napi_ok &&
      napi_set_named_property(env, result, "exitCode", exited ? code : null) == napi_ok &&
      napi_set_named_property(env, result, "signal", exited ? null : signal) == napi_ok &&
      napi_get_global(env, &global) == napi_ok && napi_get_reference_value(env, w->callback, &callback) == napi_ok &&
      napi_make_callback(env, nullptr, global, callback, 1, &result, nullptr) != napi_ok) {
    napi_value thrown;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &thrown) == napi_ok)
      napi_fatal_exception(env, thrown);
  }
  napi_close_handle_scope(env, scope);
}

void OnReadable(uv_poll_t* handle, int status, int) {
  Watch* w = static_cast<Watch*>(handle->data);
  siginfo_t info{};
  if (status == 0 &&
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w->pidfd), &info, WEXITED | WNOHANG) == 0 &&
      info.si_pid == 0)
    return;  // spurious wake-up: not exited yet
  Close(w);
  Deliver(w, info);
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
  if (napi_add_async_cleanup_hook(env, OnEnvCleanup, w, &w->cleanup) != napi_ok) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    throw Napi::Error::New(env, "watchExit: napi_add_async_cleanup_hook failed");
  }
  uv_poll_start(&w->poll, UV_READABLE, OnReadable);
  return env.Undefined();
}

}  // namespace

void InitExitWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
}

}  // namespace ctr
