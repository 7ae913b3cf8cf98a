// Imported first by fuse-overlay.test.ts: config() is read once per process, on first use.
process.env.BENTO_OVERLAY = "fuse-overlayfs";
