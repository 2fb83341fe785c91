#include "core/malloc_tuning.h"

#include <malloc.h>

#include <cstdlib>

namespace ferry {

int LimitMallocArenas(int max_arenas) {
  if (const char* env = std::getenv("MALLOC_ARENA_MAX"); env != nullptr && *env != '\0') {
    return std::atoi(env);  // glibc read it at start-up already
  }
  if (max_arenas <= 0 || ::mallopt(M_ARENA_MAX, max_arenas) != 1) return 0;
  return max_arenas;
}

}  // namespace ferry
