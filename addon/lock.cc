#include "facilities.hh"

namespace ctr {
void InitLock(Napi::Env, Napi::Object) {}
}  // namespace ctr
