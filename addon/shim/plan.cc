#include "plan.hh"

#include <stdexcept>

#include "seccomp.hh"
#include "util.hh"

namespace ctr {
namespace {

// The body is a list of records; a record is "<n>:" followed by n fields "<len>:<bytes>,"
// (netstring-like, so values may hold any byte, newlines included).
class Decoder {
 public:
  explicit Decoder(const std::string& s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  size_t Number() {
    size_t start = pos_, n = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') n = n * 10 + (s_[pos_++] - '0');
    if (pos_ == start || pos_ >= s_.size() || s_[pos_] != ':') throw std::runtime_error("plan: bad number");
    ++pos_;
    return n;
  }
  std::string Field() {
    size_t len = Number();
    if (pos_ + len + 1 > s_.size() || s_[pos_ + len] != ',') throw std::runtime_error("plan: bad field");
    std::string v = s_.substr(pos_, len);
    pos_ += len + 1;
    return v;
  }

 private:
  const std::string& s_;
  size_t pos_ = 0;
};

unsigned ToUnsigned(const std::string& s) { return static_cast<unsigned>(std::stoul(s)); }

void ApplyProcessField(ProcessSpec& p, const Op& op) {
  const std::string& k = op.name();
  if (k == "argv") p.argv.assign(op.args.begin() + 1, op.args.end());
  else if (k == "env") p.env.assign(op.args.begin() + 1, op.args.end());
  else if (k == "cwd") p.cwd = op.arg(1);
  else if (k == "user") {
    p.uid = ToUnsigned(op.arg(1));
    p.gid = ToUnsigned(op.arg(2));
  } else if (k == "groups")
    for (size_t i = 1; i < op.args.size(); ++i) p.groups.push_back(ToUnsigned(op.args[i]));
  else if (k == "caps") p.caps = std::stoull(op.arg(1));
  else if (k == "no-new-privs") p.no_new_privs = op.arg(1) == "1";
  else if (k == "seccomp") p.seccomp = DecodeSeccompProgram(op.arg(1));
  else if (k == "setgroups") p.set_groups = op.arg(1) == "1";
  else throw std::runtime_error("plan: unknown process field " + k);
}

}  // namespace

const std::string& Op::arg(size_t i) const {
  if (i >= args.size()) throw std::runtime_error("plan: op " + args[0] + " lacks argument " + std::to_string(i));
  return args[i];
}

long long Op::num(size_t i) const { return std::stoll(arg(i)); }

const Op* Plan::Setting(const std::string& name) const {
  for (const Op& op : settings)
    if (op.name() == name) return &op;
  return nullptr;
}

Plan ReadPlan(int fd) {
  std::string header;
  char c;
  while (true) {
    if (ReadFull(fd, &c, 1) != 1) throw std::runtime_error("plan: control socket closed before the plan");
    if (c == '\n') break;
    header.push_back(c);
    if (header.size() > 20) throw std::runtime_error("plan: bad length header");
  }
  size_t len = std::stoul(header);
  std::string body(len, '\0');
  if (ReadFull(fd, body.data(), len) != len) throw std::runtime_error("plan: truncated");

  Plan plan;
  Decoder d(body);
  std::vector<Op>* section = nullptr;
  bool in_process = false;
  int index = 0;
  while (!d.done()) {
    size_t n = d.Number();
    Op op{index++, {}};
    for (size_t i = 0; i < n; ++i) op.args.push_back(d.Field());
    if (op.args.empty()) throw std::runtime_error("plan: empty record");
    if (op.name() == "section") {
      const std::string& which = op.arg(1);
      in_process = which == "process";
      section = which == "host"        ? &plan.host
                : which == "container" ? &plan.container
                : which == "settings"  ? &plan.settings
                                       : nullptr;
      if (!section && !in_process) throw std::runtime_error("plan: unknown section " + which);
      continue;
    }
    if (in_process) ApplyProcessField(plan.process, op);
    else if (section) section->push_back(std::move(op));
    else throw std::runtime_error("plan: op before any section");
  }
  return plan;
}

}  // namespace ctr
