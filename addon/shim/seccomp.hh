// Loads the seccomp filter the plan carries (classic BPF that the addon compiled once per profile).
#pragma once
#include <string>

namespace ctr {

// Decodes the plan's hex form of a sock_filter array; throws std::runtime_error on bad input.
std::string DecodeSeccompProgram(const std::string& hex);

// Installs `program` (sock_filter bytes) on the calling thread with seccomp(2). Empty: nothing
// (the container asked for "unconfined"). Throws SetupError.
void LoadSeccomp(const std::string& program);

}  // namespace ctr
