// Prints the clock a core actually runs at, which is what a benchmark's figures scale with:
// lscpu and /proc/cpuinfo show the nominal (TSC) frequency, but a core may turbo above it, or
// a virtual machine may run slower. A chain of dependent 64-bit multiplies retires one per 3
// cycles on every x86-64 core since Sandy Bridge (and on AMD Zen), and no rename-time trick
// shortens it, so 3 × multiplies / thread CPU time is the clock. Thread CPU time, so a loaded
// machine's waiting does not count.
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char**) {
#if !defined(__x86_64__)
  (void)argc;
  std::printf("effective core clock: not measured (x86-64 only)\n");
  return 0;
#else
  constexpr uint64_t kMultiplies = 600'000'000;
  constexpr int kRounds = 5;
  double best = 0;
  uint64_t x = 3;
  const uint64_t y = static_cast<uint64_t>(argc) + 2;  // not a compile-time constant
  for (int round = 0; round < kRounds; ++round) {
    const double start = ThreadCpuSeconds();
    for (uint64_t i = 0; i < kMultiplies; i += 8) {
      asm volatile(
          "imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0\n\t"
          "imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0"
          : "+r"(x)
          : "r"(y));
    }
    const double seconds = ThreadCpuSeconds() - start;
    best = std::max(best, 3.0 * static_cast<double>(kMultiplies) / seconds / 1e9);
  }
  std::printf("effective core clock: %.2f GHz (dependent 64-bit multiplies; x=%llu)\n", best,
              static_cast<unsigned long long>(x & 1));
  return 0;
#endif
}
