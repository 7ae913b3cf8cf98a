// The container's root filesystem through fuse-overlayfs, for where the kernel's overlayfs
// cannot be used (rootless before Linux 5.11, or BENTO_OVERLAY=fuse-overlayfs).
#pragma once
#include "plan.hh"

namespace ctr {

// Hands init the /dev/fuse fd the shim opened before clone (-1: none).
void SetFuseDevice(int fd);

// "try-mount-overlay <errnos> <mount-overlay args...>": the kernel overlay; a failure with one of
// the comma-separated errnos is remembered (the kernel refused) instead of ending the setup.
void TryMountOverlay(const Op& op, void (*mount_overlay)(const Op&));

// "mount-fuse-overlay <when> <target> <flags> <options> <procs files> <argv...>": mounts FUSE on
// target and starts the program (argv, which ends with the /dev/fd path to append the fd's number
// to) to serve it, in the cgroups whose cgroup.procs files are listed (newline-separated). `when` is "always", or
// "if-kernel-refused" (only after a refused try-mount-overlay).
void MountFuseOverlay(const Op& op);

}  // namespace ctr
