// What a fuzz target asserts beyond "does not crash": FUZZ_CHECK prints the property that
// failed and aborts, which libFuzzer (and the replay driver) report as a crash with the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(cond, detail)                                                                \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "fuzz check failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(detail).c_str());                                                \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)
