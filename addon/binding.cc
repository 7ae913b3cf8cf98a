// The N-API surface of bento. Deliberately small: each facility lives in its own file.
#include "facilities.hh"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ctr::InitSpawn(env, exports);
  ctr::InitExitWatch(env, exports);
  ctr::InitLock(env, exports);
  ctr::InitFs(env, exports);
  ctr::InitPortConnect(env, exports);
  ctr::InitRelay(env, exports);
  ctr::InitSeccomp(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(bento, Init)
