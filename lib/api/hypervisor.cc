#include "api/hypervisor.h"

#include <charconv>

#include "api/kind_codec.h"

namespace ferry::api {

bool Hypervisor::IsAlive(WallTime now) const {
  if (!status.ready || !status.last_heartbeat_time) return false;
  return now - *status.last_heartbeat_time <= kHypervisorHeartbeatTimeout;
}

StatusOr<int64_t> ParseVersionNumber(const std::string& version) {
  int64_t parts[3] = {0, 0, 0};
  size_t n = 0;
  const char* p = version.data();
  const char* end = p + version.size();
  while (p < end) {
    if (n == 3) return InvalidError("version \"" + version + "\": more than three numbers");
    int64_t v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || next == p || v < 0 || v > 999) {
      return InvalidError("version \"" + version + "\": expected numbers 0-999 separated by dots");
    }
    parts[n++] = v;
    p = next;
    if (p < end) {
      if (*p != '.' || p + 1 == end) return InvalidError("version \"" + version + "\": bad separator");
      ++p;
    }
  }
  if (n == 0) return InvalidError("version is empty");
  return parts[0] * 1'000'000 + parts[1] * 1'000 + parts[2];
}

Status Decode(const Json& j, const std::string& path, HypervisorResources* out) {
  FieldReader r(j, path);
  r.Int("cpus", &out->cpus);
  r.Qty("memory", &out->memory);
  r.Int("dedicatedCpus", &out->dedicated_cpus);
  r.QtyMap("hugepages", &out->hugepages);
  out->raw = j;
  return r.status();
}

Json Encode(const HypervisorResources& v) {
  Json j = Base(v.raw);
  j["cpus"] = v.cpus;
  PutQty(j, "memory", v.memory);
  j["dedicatedCpus"] = v.dedicated_cpus;
  PutQtyMap(j, "hugepages", v.hugepages);
  return j;
}

Status Decode(const Json& j, const std::string& path, HypervisorNumaCell* out) {
  FieldReader r(j, path);
  r.Require("id");
  r.Int("id", &out->id);
  r.Int("cpus", &out->cpus);
  r.Qty("memory", &out->memory);
  r.QtyMap("hugepages", &out->hugepages);
  out->raw = j;
  return r.status();
}

Json Encode(const HypervisorNumaCell& v) {
  Json j = Base(v.raw);
  j["id"] = v.id;
  j["cpus"] = v.cpus;
  PutQty(j, "memory", v.memory);
  PutQtyMap(j, "hugepages", v.hugepages);
  return j;
}

Status Decode(const Json& j, const std::string& path, OrphanDomain* out) {
  FieldReader r(j, path);
  r.Require("name");
  r.String("name", &out->name);
  r.String("uuid", &out->uuid);
  r.String("state", &out->state);
  out->raw = j;
  return r.status();
}

Json Encode(const OrphanDomain& v) {
  Json j = Base(v.raw);
  PutString(j, "name", v.name);
  PutString(j, "uuid", v.uuid);
  PutString(j, "state", v.state);
  return j;
}

Status Decode(const Json& j, const std::string& path, HypervisorSpec* out) {
  FieldReader r(j, path);
  out->raw = j;
  return r.status();
}

Json Encode(const HypervisorSpec& v) { return Base(v.raw); }

Status Decode(const Json& j, const std::string& path, HypervisorStatus* out) {
  FieldReader r(j, path);
  r.Bool("ready", &out->ready);
  r.Time("lastHeartbeatTime", &out->last_heartbeat_time);
  r.String("migrationAddress", &out->migration_address);
  r.Bool("migrationTLS", &out->migration_tls);
  r.String("cpuVendor", &out->cpu_vendor);
  r.String("cpuModel", &out->cpu_model);
  r.StrList("cpuFeatures", &out->cpu_features);
  r.StrList("cpuModels", &out->cpu_models);
  r.String("libvirtVersion", &out->libvirt_version);
  r.String("qemuVersion", &out->qemu_version);
  r.String("handlerVersion", &out->handler_version);
  r.Object("capacity", &out->capacity);
  r.Object("allocatable", &out->allocatable);
  r.Object("used", &out->used);
  r.List("numaCells", &out->numa_cells);
  r.Int("domains", &out->domains);
  r.Int("migrationsIn", &out->migrations_in);
  r.Int("migrationsOut", &out->migrations_out);
  r.List("orphans", &out->orphans);
  r.List("conditions", &out->conditions);
  out->raw = j;
  return r.status();
}

Json Encode(const HypervisorStatus& v) {
  Json j = Base(v.raw);
  j["ready"] = v.ready;
  PutTime(j, "lastHeartbeatTime", v.last_heartbeat_time);
  PutString(j, "migrationAddress", v.migration_address);
  PutBool(j, "migrationTLS", v.migration_tls);
  PutString(j, "cpuVendor", v.cpu_vendor);
  PutString(j, "cpuModel", v.cpu_model);
  PutStrList(j, "cpuFeatures", v.cpu_features);
  PutStrList(j, "cpuModels", v.cpu_models);
  PutString(j, "libvirtVersion", v.libvirt_version);
  PutString(j, "qemuVersion", v.qemu_version);
  PutString(j, "handlerVersion", v.handler_version);
  j["capacity"] = Encode(v.capacity);
  j["allocatable"] = Encode(v.allocatable);
  j["used"] = Encode(v.used);
  PutList(j, "numaCells", v.numa_cells);
  // Counters are always written: "0 domains" is information, and printer columns show it.
  j["domains"] = v.domains;
  j["migrationsIn"] = v.migrations_in;
  j["migrationsOut"] = v.migrations_out;
  PutList(j, "orphans", v.orphans);
  PutList(j, "conditions", v.conditions);
  return j;
}

StatusOr<Hypervisor> Hypervisor::FromJson(const Json& j) {
  return DecodeKind<Hypervisor>(j, SpecPresence::kOptional);
}

Json Hypervisor::ToJson() const { return EncodeKind(*this, SpecPresence::kOptional); }

}  // namespace ferry::api
