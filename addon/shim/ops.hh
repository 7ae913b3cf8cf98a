// The ops of a plan, carried out one by one. Each throws SetupError naming the syscall and path.
#pragma once
#include "plan.hh"

namespace ctr {

// Host-side ops run by the shim before clone: mkdir, write (cgroup creation and limits).
void RunHostOp(const Op& op);

// Container-side ops run by init in its new mount namespace, in plan order (mounts, device
// nodes, pivot_root, hostname). Paths of "*-in" ops are resolved inside the root set by set-root.
// "borrow-mount <pid> <path>" clones a mount of another container's namespace (one that cannot
// be bound from here), which "attach-borrowed-in <target>" then attaches.
void RunContainerOp(const Op& op);

}  // namespace ctr
