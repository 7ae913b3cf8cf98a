// The ops of a plan, carried out one by one. Each throws SetupError naming the syscall and path.
#pragma once
#include "plan.hh"

namespace ctr {

// Host-side ops run by the shim before clone: mkdir, write (cgroup creation and limits).
void RunHostOp(const Op& op);

// Container-side ops run by init in its new mount namespace, in plan order (mounts, device
// nodes, pivot_root, hostname). Paths of "*-in" ops are resolved inside the root set by set-root.
void RunContainerOp(const Op& op);

// "borrow-mount <pid> <path>": clones the mount at <path> in the mount namespace of <pid> (a
// mount of another namespace cannot be bound from here). Run by the shim before clone; init
// attaches the clone with the container op "attach-borrowed-in <target>".
void BorrowMount(const Op& op);

}  // namespace ctr
