// The XML libvirt hands the node agent and the migration engine: domain definitions (the
// engine's disk and memory view, the agent's description with Ferry's metadata), host and
// domain capabilities, and `qemu --version` output. Any bytes give a value or an error with a
// reason; whatever parses is self-consistent.
#include <cstdint>
#include <string>

#include "domain/capabilities.h"
#include "domain/domain_description.h"
#include "domain/node_hypervisor.h"
#include "fuzz_check.h"
#include "migration/domain_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string xml(reinterpret_cast<const char*>(data), size);

  auto info = ferry::migration::ParseDomainXml(xml);
  if (info.ok()) {
    auto local = ferry::migration::LocalDiskTargets(*info, {"/shared/"});
    FUZZ_CHECK(local.size() <= info->disks.size(), "more local disks than disks");
    for (const auto& target : local) {
      bool found = false;
      for (const auto& d : info->disks) found = found || d.target == target;
      FUZZ_CHECK(found, "a local disk target that is not a disk: " + target);
    }
  } else {
    FUZZ_CHECK(!info.status().message().empty(), "ParseDomainXml: an error without a reason");
  }

  ferry::domain::DomainInfo description;
  ferry::Status st = ferry::domain::ParseDomainDescription(xml, &description);
  if (!st.ok())
    FUZZ_CHECK(!st.message().empty(), "ParseDomainDescription: an error without a reason");

  ferry::domain::HostFacts facts;
  st = ferry::domain::ParseCapabilities(xml, &facts);
  if (st.ok()) {
    for (size_t i = 1; i < facts.cpus.size(); ++i) {
      FUZZ_CHECK(facts.cpus[i - 1] < facts.cpus[i], "host CPUs not ascending and unique");
    }
  }

  auto models = ferry::domain::ParseUsableCpuModels(xml);
  if (!models.ok())
    FUZZ_CHECK(!models.status().message().empty(), "ParseUsableCpuModels: no reason");

  (void)ferry::domain::ParseQemuVersionOutput(xml);
  return 0;
}
