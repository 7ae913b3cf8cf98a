// The owners role's "put" op (see put.cc).
#pragma once
#include "plan.hh"

namespace ctr {

// "put <staged> <path> into|as <upper> <work> <lower>...": copies the staged tree to `path` of a
// stopped container through a writable overlay of its layers.
void Put(const Op& op);

}  // namespace ctr
