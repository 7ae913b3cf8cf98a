#include "facilities.hh"

namespace ctr {
void InitSpawn(Napi::Env, Napi::Object) {}
}  // namespace ctr
