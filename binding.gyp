{
  "targets": [
    {
      "target_name": "bento",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "sources": [
        "addon/binding.cc",
        "addon/errors.cc",
        "addon/spawn.cc",
        "addon/exit-watch.cc",
        "addon/lock.cc",
        "addon/fs.cc",
        "addon/port-connect.cc",
        "addon/relay.cc",
        "addon/seccomp.cc",
        "addon/sealed-exe.cc"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Werror", "-fstack-protector-strong"],
      "cflags_cc!": ["-fno-exceptions"],
      # A thread-pool job that completes while a worker thread's env ends cannot throw into it:
      # node-addon-api then drops the exception instead of aborting the process.
      "defines": ["NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "libraries": ["-l:libseccomp.a"]
    },
    {
      "target_name": "bento-shim",
      "type": "executable",
      "sources": [
        "addon/shim/main.cc",
        "addon/shim/util.cc",
        "addon/shim/plan.cc",
        "addon/shim/ops.cc",
        "addon/shim/fuse-overlay.cc",
        "addon/shim/shim.cc",
        "addon/shim/init.cc",
        "addon/shim/payload.cc",
        "addon/shim/exec.cc",
        "addon/shim/console.cc",
        "addon/shim/attach.cc",
        "addon/shim/ports.cc",
        "addon/shim/udp-relay.cc",
        "addon/shim/tcp-relay.cc",
        "addon/shim/netlink.cc",
        "addon/shim/network.cc",
        "addon/shim/seccomp.cc",
        "addon/shim/devices.cc",
        "addon/shim/userns.cc",
        "addon/shim/owners.cc",
        "addon/shim/overlay-view.cc",
        "addon/shim/put.cc"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Werror", "-fstack-protector-strong", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-static"]
    }
  ]
}
