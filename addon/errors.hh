// Errors thrown to JavaScript carry errno as fields, as Node's SystemError does: code ("EPERM"),
// errno (negative), syscall and path. Never exit or abort in the addon.
#pragma once
#include <napi.h>

#include <cerrno>
#include <string>

namespace ctr {

Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& path = "");

}  // namespace ctr
