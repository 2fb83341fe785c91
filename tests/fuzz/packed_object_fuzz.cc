// The informer cache keeps objects packed (CBOR): any JSON value the API server can send packs
// and unpacks to an equal value, and its cache key is computed without throwing.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_check.h"
#include "kube/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return 0;
  ferry::kube::PackedObject packed(in);
  auto out = packed.Unpack();
  FUZZ_CHECK(out != nullptr, "unpacking gave nothing");
  FUZZ_CHECK(*out == in, "pack/unpack changed the value:\n  in:  " + in.dump().substr(0, 1000) +
                             "\n  out: " + out->dump().substr(0, 1000));
  std::string key = ferry::kube::ObjectKey(in);  // must not throw, whatever metadata holds
  FUZZ_CHECK(key == ferry::kube::ObjectKey(*out), "the key changed across pack/unpack");
  return 0;
}
