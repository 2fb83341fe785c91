// kubeconfig files, as users and installers write them: any text gives a config or an error
// with a reason, never an exception or a crash. Files a kubeconfig names resolve against a
// directory that does not exist, so the target reads no file of the machine through relative
// paths.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // Absolute paths would read the machine's files (and /dev/zero never ends): not the parser's
  // business, so such inputs are skipped.
  if (text.find("/dev/") != std::string::npos || text.find("/proc/") != std::string::npos) return 0;
  for (const char* context : {"", "fuzz"}) {
    auto c = ferry::kube::ParseKubeconfig(text, "/nonexistent/ferry-fuzz", context);
    if (!c.ok()) {
      FUZZ_CHECK(!c.status().message().empty(), "an error without a reason");
    } else {
      FUZZ_CHECK(!c->server.empty(), "a config without a server");
    }
  }
  return 0;
}
