#include "facilities.hh"

namespace ctr {
void InitFs(Napi::Env, Napi::Object) {}
}  // namespace ctr
