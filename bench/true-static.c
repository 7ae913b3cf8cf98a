/*
 * The /bin/true of the benchmark root filesystem: static, so exec costs no dynamic linking and
 * every tool runs the same binary (RUNTIME-NOTES section 8 used a static true the same way).
 */
int main(void) {
  return 0;
}
