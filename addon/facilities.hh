// Each kernel facility the addon exposes registers its functions here; binding.cc calls them all.
#pragma once
#include <napi.h>

namespace ctr {
void InitSpawn(Napi::Env env, Napi::Object exports);
void InitExitWatch(Napi::Env env, Napi::Object exports);
void InitLock(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);
void InitPortConnect(Napi::Env env, Napi::Object exports);
void InitRelay(Napi::Env env, Napi::Object exports);
void InitSeccomp(Napi::Env env, Napi::Object exports);
}  // namespace ctr
