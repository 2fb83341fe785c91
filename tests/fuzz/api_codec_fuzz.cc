// The JSON codecs of every kind Ferry reads (its four kinds, Hypervisor, Node, Lease, Event):
// whatever JSON arrives, decoding never crashes, and an object that decodes encodes to JSON
// that serializes (valid UTF-8), parses back and decodes to the same value (its encoding is
// a fixed point).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "api/core_types.h"
#include "api/hypervisor.h"
#include "api/migration.h"
#include "api/policy.h"
#include "api/servergroup.h"
#include "api/vm.h"
#include "fuzz_check.h"

namespace {

using Json = nlohmann::json;

template <typename T>
void RoundTrip(const Json& in, const char* kind) {
  auto decoded = T::FromJson(in);
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.status().message().empty(),
               std::string(kind) + ": an error without a reason");
    return;
  }
  Json first = decoded->ToJson();
  std::string wire;
  try {
    wire = first.dump();
  } catch (const Json::exception& e) {
    FUZZ_CHECK(false, std::string(kind) + ": the encoding does not serialize: " + e.what());
  }
  Json parsed = Json::parse(wire, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!parsed.is_discarded(), std::string(kind) + ": the encoding does not parse back");
  auto again = T::FromJson(parsed);
  FUZZ_CHECK(again.ok(), std::string(kind) + ": its own encoding does not decode: " +
                             again.status().message() + "\n  " + wire.substr(0, 2000));
  Json second = again->ToJson();
  FUZZ_CHECK(first == second, std::string(kind) + ": decode(encode(x)) != x\n  first:  " +
                                  first.dump().substr(0, 2000) +
                                  "\n  second: " + second.dump().substr(0, 2000));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Json in = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return 0;
  RoundTrip<ferry::api::VirtualMachine>(in, "VirtualMachine");
  RoundTrip<ferry::api::VirtualMachineMigration>(in, "VirtualMachineMigration");
  RoundTrip<ferry::api::ServerGroup>(in, "ServerGroup");
  RoundTrip<ferry::api::MigrationPolicy>(in, "MigrationPolicy");
  RoundTrip<ferry::api::Hypervisor>(in, "Hypervisor");
  RoundTrip<ferry::api::Node>(in, "Node");
  RoundTrip<ferry::api::Lease>(in, "Lease");
  RoundTrip<ferry::api::Event>(in, "Event");
  return 0;
}
