// Allocator settings for Ferry's long-running processes.
#pragma once

namespace ferry {

// glibc gives every thread that allocates its own arena (up to eight per core). An informer
// cache filled from HTTP bodies that pool threads receive then leaves each arena's heap
// fragmented: 20,000 cached objects measured 50 MiB resident with the default and 35 MiB with
// two arenas (docs/kube-client.md). Call first thing in main(). MALLOC_ARENA_MAX in the
// environment, when set, wins. Returns the limit in force (0 if left to glibc).
int LimitMallocArenas(int max_arenas = 2);

}  // namespace ferry
