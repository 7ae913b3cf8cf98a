/*
 * The kernel floor of a container start, measured in C with no runtime around it.
 *
 * RUNTIME-NOTES section 8 ("full start: clone(6 ns) + mounts + sethostname + exec /bin/true +
 * exit + wait", about 3.5 ms on this machine) is the reference. One iteration here:
 *   mkdir upper/work/merged -> clone(NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS|NEWCGROUP) ->
 *   in the child: make / private, mount overlay (the rootfs as the only lowerdir), mount /proc,
 *   pivot_root(".", "."), detach the old root, sethostname, execve("/bin/true") ->
 *   waitpid -> remove upper/work/merged.
 * No cgroups, no /dev, no capability or seccomp work: a real runtime can only be slower.
 *
 * Usage:
 *   floor container <rootfs> <scratch-dir> <warmup> <iterations>
 *   floor spawn <warmup> <iterations> <file> [arg...]
 * The spawn mode times posix_spawn + waitpid of another tool (crun, bwrap, ...) without Node's
 * own process-creation cost in the measurement.
 * Output: "sample <us>" per measured iteration, then "median <us>". Errors go to stderr and the
 * exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct container_dirs {
  const char *rootfs;
  char base[PATH_MAX];
  char upper[PATH_MAX];
  char work[PATH_MAX];
  char merged[PATH_MAX];
};

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int compare_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

/* In the cloned child: report the failed step on stderr and leave with status 127. */
static void child_fail(const char *step, const char *path) {
  dprintf(2, "floor: %s \"%s\": %s\n", step, path, strerror(errno));
  _exit(127);
}

static int container_child(void *arg) {
  const struct container_dirs *d = arg;
  char data[3 * PATH_MAX + 64];
  /* Private first, so neither the overlay nor /proc propagates back to the host (mount_namespaces(7)). */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) child_fail("make mounts private", "/");
  snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", d->rootfs, d->upper, d->work);
  if (mount("overlay", d->merged, "overlay", MS_NODEV, data) != 0) child_fail("mount overlay on", d->merged);
  if (chdir(d->merged) != 0) child_fail("chdir", d->merged);
  /* The child is PID 1 of the new PID namespace, so this /proc shows that namespace. */
  if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) child_fail("mount proc on", "proc");
  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then drops it
   * without needing a put_old directory inside the image (pivot_root(2), NOTES). */
  if (syscall(SYS_pivot_root, ".", ".") != 0) child_fail("pivot_root", d->merged);
  if (umount2(".", MNT_DETACH) != 0) child_fail("detach the old root", ".");
  if (chdir("/") != 0) child_fail("chdir", "/");
  if (sethostname("floor", 5) != 0) child_fail("sethostname", "floor");
  char *argv[] = {"/bin/true", NULL};
  char *envp[] = {"PATH=/bin", NULL};
  execve(argv[0], argv, envp);
  child_fail("execve", argv[0]);
  return 127;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

static int make_dirs(struct container_dirs *d) {
  const char *dirs[] = {d->base, d->upper, d->work, d->merged};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    if (mkdir(dirs[i], 0700) != 0) {
      fprintf(stderr, "floor: mkdir \"%s\": %s\n", dirs[i], strerror(errno));
      return -1;
    }
  }
  return 0;
}

/* One container start-to-exit-and-removal; returns its duration in ns, or -1. */
static long long container_once(struct container_dirs *d, char *stack, size_t stack_size) {
  const int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  long long start = now_ns();
  if (make_dirs(d) != 0) return -1;
  pid_t pid = clone(container_child, stack + stack_size, flags | SIGCHLD, d);
  if (pid < 0) {
    fprintf(stderr, "floor: clone: %s\n", strerror(errno));
    nftw(d->base, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "floor: waitpid: %s\n", strerror(errno));
      return -1;
    }
  }
  /* The overlay went away with the child's mount namespace; only empty dirs remain. */
  if (nftw(d->base, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0) {
    fprintf(stderr, "floor: remove \"%s\": %s\n", d->base, strerror(errno));
    return -1;
  }
  long long end = now_ns();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "floor: the container child ended with wait status 0x%x\n", status);
    return -1;
  }
  return end - start;
}

/* posix_spawn + waitpid of argv with stdout on /dev/null; returns ns, or -1. */
static long long spawn_once(char **argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", 1 /* O_WRONLY */, 0);
  long long start = now_ns();
  pid_t pid;
  int err = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    fprintf(stderr, "floor: posix_spawn \"%s\": %s\n", argv[0], strerror(err));
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "floor: waitpid: %s\n", strerror(errno));
      return -1;
    }
  }
  long long end = now_ns();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "floor: \"%s\" ended with wait status 0x%x\n", argv[0], status);
    return -1;
  }
  return end - start;
}

static int report(long long *samples, int n) {
  for (int i = 0; i < n; i++) printf("sample %lld\n", samples[i] / 1000);
  qsort(samples, (size_t)n, sizeof samples[0], compare_ll);
  long long median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  printf("median %lld\n", median / 1000);
  return 0;
}

static int parse_count(const char *text, const char *what) {
  char *end;
  long value = strtol(text, &end, 10);
  if (*end != '\0' || value < 0 || value > 1000000) {
    fprintf(stderr, "floor: %s must be a whole number, not \"%s\"\n", what, text);
    exit(2);
  }
  return (int)value;
}

static void usage(void) {
  fprintf(stderr, "usage: floor container <rootfs> <scratch-dir> <warmup> <iterations>\n"
                  "       floor spawn <warmup> <iterations> <file> [arg...]\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  if (strcmp(argv[1], "container") == 0) {
    if (argc != 6) usage();
    int warmup = parse_count(argv[4], "warmup"), n = parse_count(argv[5], "iterations");
    struct container_dirs d = {.rootfs = argv[2]};
    if (snprintf(d.base, sizeof d.base, "%s/floor-%d", argv[3], (int)getpid()) >= (int)sizeof d.base ||
        snprintf(d.upper, sizeof d.upper, "%s/upper", d.base) >= (int)sizeof d.upper ||
        snprintf(d.work, sizeof d.work, "%s/work", d.base) >= (int)sizeof d.work ||
        snprintf(d.merged, sizeof d.merged, "%s/merged", d.base) >= (int)sizeof d.merged) {
      fprintf(stderr, "floor: the scratch directory path is too long: \"%s\"\n", argv[3]);
      return 1;
    }
    const size_t stack_size = 256 * 1024;
    char *stack = malloc(stack_size);
    long long *samples = calloc((size_t)n + 1, sizeof *samples);
    if (stack == NULL || samples == NULL) return 1;
    for (int i = 0; i < warmup + n; i++) {
      long long ns = container_once(&d, stack, stack_size);
      if (ns < 0) return 1;
      if (i >= warmup) samples[i - warmup] = ns;
    }
    return report(samples, n);
  }
  if (strcmp(argv[1], "spawn") == 0) {
    if (argc < 5) usage();
    int warmup = parse_count(argv[2], "warmup"), n = parse_count(argv[3], "iterations");
    long long *samples = calloc((size_t)n + 1, sizeof *samples);
    if (samples == NULL) return 1;
    for (int i = 0; i < warmup + n; i++) {
      long long ns = spawn_once(argv + 4);
      if (ns < 0) return 1;
      if (i >= warmup) samples[i - warmup] = ns;
    }
    return report(samples, n);
  }
  usage();
  return 2;
}
