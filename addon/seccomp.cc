// Compiles a seccomp filter to classic BPF with libseccomp (linked statically), once per profile:
// TypeScript decided every rule (the profile, the capabilities it depends on, the errno values);
// this only translates syscall names for the listed architectures and returns the program's
// bytes, which the plan carries to bento-shim. The helper then loads them with seccomp(2) and
// needs no libseccomp of its own, so a container start pays for no compilation (runc and crun
// compile per start; podman's profile cache is the model here).
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "errors.hh"
#include "facilities.hh"

namespace ctr {
namespace {

// Owns a libseccomp filter context.
class FilterContext {
 public:
  explicit FilterContext(uint32_t default_action) : ctx_(seccomp_init(default_action)) {}
  ~FilterContext() {
    if (ctx_) seccomp_release(ctx_);
  }
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

class MemFd {
 public:
  MemFd() : fd_(memfd_create("bento-seccomp", MFD_CLOEXEC)) {}
  ~MemFd() {
    if (fd_ >= 0) close(fd_);
  }
  MemFd(const MemFd&) = delete;
  MemFd& operator=(const MemFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

uint64_t Uint64Of(const Napi::Value& v, const char* what) {
  if (v.IsBigInt()) {
    bool lossless = true;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
  throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number or a bigint");
}

uint32_t Uint32Of(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().Uint32Value();
}

Napi::Array ArrayOf(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be an array");
  return v.As<Napi::Array>();
}

// compileSeccomp({ defaultAction, badArchAction, architectures: string[],
//   rules: [{ syscall, action, args: [{ index, op, value, valueTwo }] }] }) -> Buffer (sock_filter[])
// Actions are the kernel's SECCOMP_RET_* values (errno included); ops are libseccomp's
// scmp_compare numbers. Syscalls unknown on every listed architecture are skipped, as
// Docker skips them, and returned in `skipped` so a profile's typos can be reported.
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "compileSeccomp expects a filter object");
  Napi::Object filter = info[0].As<Napi::Object>();
  FilterContext ctx(Uint32Of(filter, "defaultAction"));
  if (!ctx.get()) throw SystemError(env, EINVAL, "seccomp_init");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, Uint32Of(filter, "badArchAction"));
  if (rc < 0) throw SystemError(env, -rc, "seccomp_attr_set");
  // A binary search over the syscall numbers instead of a linear list: every system call of the
  // container runs through this filter, and an allowlist of ~400 names is long.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc < 0) throw SystemError(env, -rc, "seccomp_attr_set(SCMP_FLTATR_CTL_OPTIMIZE)");
  // The filter is loaded by bento-shim after it set no_new_privs itself (or, without it, with
  // CAP_SYS_ADMIN); libseccomp's own loader is never used.
  Napi::Array arches = ArrayOf(filter, "architectures");
  for (uint32_t i = 0; i < arches.Length(); ++i) {
    std::string name = arches.Get(i).As<Napi::String>().Utf8Value();
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (arch == 0) throw Napi::Error::New(env, "seccomp: unknown architecture " + name);
    rc = seccomp_arch_add(ctx.get(), arch);
    if (rc < 0 && rc != -EEXIST) throw SystemError(env, -rc, "seccomp_arch_add", name);
  }
  Napi::Array rules = ArrayOf(filter, "rules");
  Napi::Array skipped = Napi::Array::New(env);
  for (uint32_t i = 0; i < rules.Length(); ++i) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("syscall").As<Napi::String>().Utf8Value();
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      skipped.Set(skipped.Length(), name);
      continue;
    }
    Napi::Array args = ArrayOf(rule, "args");
    std::vector<scmp_arg_cmp> cmps;
    for (uint32_t j = 0; j < args.Length(); ++j) {
      Napi::Object a = args.Get(j).As<Napi::Object>();
      cmps.push_back(scmp_arg_cmp{Uint32Of(a, "index"), static_cast<scmp_compare>(Uint32Of(a, "op")),
                                  Uint64Of(a.Get("value"), "value"), Uint64Of(a.Get("valueTwo"), "valueTwo")});
    }
    rc = seccomp_rule_add_array(ctx.get(), Uint32Of(rule, "action"), nr, static_cast<unsigned>(cmps.size()),
                                cmps.empty() ? nullptr : cmps.data());
    // -EACCES: the rule's action is the default one; it changes nothing.
    if (rc < 0 && rc != -EACCES) throw SystemError(env, -rc, "seccomp_rule_add", name);
  }
  MemFd out;
  if (out.get() < 0) throw SystemError(env, errno, "memfd_create");
  rc = seccomp_export_bpf(ctx.get(), out.get());
  if (rc < 0) throw SystemError(env, -rc, "seccomp_export_bpf");
  off_t size = lseek(out.get(), 0, SEEK_END);
  if (size < 0) throw SystemError(env, errno, "lseek");
  Napi::Buffer<uint8_t> bytes = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(size));
  if (pread(out.get(), bytes.Data(), static_cast<size_t>(size), 0) != size) throw SystemError(env, errno, "pread");
  Napi::Object result = Napi::Object::New(env);
  result.Set("program", bytes);
  result.Set("skipped", skipped);
  return result;
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp, "compileSeccomp"));
}

}  // namespace ctr
