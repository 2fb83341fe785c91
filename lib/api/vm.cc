#include "api/vm.h"

#include "api/kind_codec.h"

namespace ferry::api {

bool Toleration::Tolerates(const Taint& taint) const {
  if (effect && *effect != taint.effect) return false;
  if (op == TolerationOperator::kExists) return key.empty() || key == taint.key;
  return key == taint.key && value == taint.value;
}

Status Decode(const Json& j, const std::string& path, NetworkDiskSource* out) {
  FieldReader r(j, path);
  r.Require("protocol");
  r.String("protocol", &out->protocol);
  r.String("name", &out->name);
  r.String("host", &out->host);
  r.Int("port", &out->port);
  out->raw = j;
  return r.status();
}

Json Encode(const NetworkDiskSource& v) {
  Json j = Base(v.raw);
  PutString(j, "protocol", v.protocol);
  PutString(j, "name", v.name);
  PutString(j, "host", v.host);
  PutInt(j, "port", v.port);
  return j;
}

Status Decode(const Json& j, const std::string& path, Disk* out) {
  FieldReader r(j, path);
  r.Require("name");
  r.String("name", &out->name);
  r.Enum("type", &out->type);
  r.String("path", &out->path);
  r.OptObject("network", &out->network);
  r.Enum("format", &out->format);
  r.OptQty("size", &out->size);
  r.OptInt("bootOrder", &out->boot_order);
  r.Bool("readOnly", &out->read_only);
  if (r.status().ok() && out->path.empty() == !out->network.has_value()) {
    r.Fail("path", "exactly one of path and network must be set");
  }
  out->raw = j;
  return r.status();
}

Json Encode(const Disk& v) {
  Json j = Base(v.raw);
  PutString(j, "name", v.name);
  PutEnum(j, "type", v.type, DiskType::kShared);
  PutString(j, "path", v.path);
  PutOptObject(j, "network", v.network);
  PutEnum(j, "format", v.format, DiskFormat::kRaw);
  PutOptQty(j, "size", v.size);
  PutOptInt(j, "bootOrder", v.boot_order);
  PutBool(j, "readOnly", v.read_only);
  return j;
}

Status Decode(const Json& j, const std::string& path, KernelBoot* out) {
  FieldReader r(j, path);
  r.Require("kernel");
  r.String("kernel", &out->kernel);
  r.String("initrd", &out->initrd);
  r.String("cmdline", &out->cmdline);
  out->raw = j;
  return r.status();
}

Json Encode(const KernelBoot& v) {
  Json j = Base(v.raw);
  PutString(j, "kernel", v.kernel);
  PutString(j, "initrd", v.initrd);
  PutString(j, "cmdline", v.cmdline);
  return j;
}

Status Decode(const Json& j, const std::string& path, Hugepages* out) {
  FieldReader r(j, path);
  r.Require("pageSize");
  r.Qty("pageSize", &out->page_size);
  out->raw = j;
  return r.status();
}

Json Encode(const Hugepages& v) {
  Json j = Base(v.raw);
  PutQty(j, "pageSize", v.page_size);
  return j;
}

Status Decode(const Json& j, const std::string& path, Toleration* out) {
  FieldReader r(j, path);
  r.String("key", &out->key);
  r.Enum("operator", &out->op);
  r.String("value", &out->value);
  if (r.Find("effect") != nullptr) {
    TaintEffect effect{};
    r.Enum("effect", &effect);
    if (r.status().ok()) out->effect = effect;
  }
  out->raw = j;
  return r.status();
}

Json Encode(const Toleration& v) {
  Json j = Base(v.raw);
  PutString(j, "key", v.key);
  PutEnum(j, "operator", v.op, TolerationOperator::kEqual);
  PutString(j, "value", v.value);
  if (v.effect) {
    PutEnum(j, "effect", *v.effect);
  } else {
    j.erase("effect");
  }
  return j;
}

Status Decode(const Json& j, const std::string& path, VirtualMachineSpec* out) {
  FieldReader r(j, path);
  r.Require("cpus");
  r.Require("memory");
  r.Bool("running", &out->running);
  r.Int("cpus", &out->cpus);
  r.Qty("memory", &out->memory);
  r.String("cpuModel", &out->cpu_model);
  r.Bool("dedicatedCpus", &out->dedicated_cpus);
  r.OptInt("numaNodes", &out->numa_nodes);
  r.OptObject("hugepages", &out->hugepages);
  r.OptObject("kernelBoot", &out->kernel_boot);
  r.List("disks", &out->disks);
  r.String("serverGroup", &out->server_group);
  r.Enum("evictionStrategy", &out->eviction_strategy);
  r.StrMap("nodeSelector", &out->node_selector);
  r.List("tolerations", &out->tolerations);
  if (r.status().ok() && out->cpus < 1) r.Fail("cpus", "must be at least 1");
  if (r.status().ok() && out->memory.Sign() <= 0) r.Fail("memory", "must be positive");
  out->raw = j;
  return r.status();
}

Json Encode(const VirtualMachineSpec& v) {
  Json j = Base(v.raw);
  PutBool(j, "running", v.running);
  PutInt(j, "cpus", v.cpus);
  PutQty(j, "memory", v.memory);
  PutString(j, "cpuModel", v.cpu_model);
  PutBool(j, "dedicatedCpus", v.dedicated_cpus);
  PutOptInt(j, "numaNodes", v.numa_nodes);
  PutOptObject(j, "hugepages", v.hugepages);
  PutOptObject(j, "kernelBoot", v.kernel_boot);
  PutList(j, "disks", v.disks);
  PutString(j, "serverGroup", v.server_group);
  PutEnum(j, "evictionStrategy", v.eviction_strategy, EvictionStrategy::kLiveMigrate);
  PutStrMap(j, "nodeSelector", v.node_selector);
  PutList(j, "tolerations", v.tolerations);
  return j;
}

Status Decode(const Json& j, const std::string& path, MigrationRecord* out) {
  FieldReader r(j, path);
  r.String("migrationName", &out->migration_name);
  r.String("migrationUID", &out->migration_uid);
  r.String("sourceNode", &out->source_node);
  r.String("targetNode", &out->target_node);
  r.Enum("mode", &out->mode);
  r.Enum("result", &out->result);
  r.Time("startTime", &out->start_time);
  r.Time("completionTime", &out->completion_time);
  r.Duration("duration", &out->duration);
  r.Duration("downtime", &out->downtime);
  r.String("reason", &out->reason);
  out->raw = j;
  return r.status();
}

Json Encode(const MigrationRecord& v) {
  Json j = Base(v.raw);
  PutString(j, "migrationName", v.migration_name);
  PutString(j, "migrationUID", v.migration_uid);
  PutString(j, "sourceNode", v.source_node);
  PutString(j, "targetNode", v.target_node);
  PutEnum(j, "mode", v.mode);
  PutEnum(j, "result", v.result);
  PutTime(j, "startTime", v.start_time);
  PutTime(j, "completionTime", v.completion_time);
  PutDuration(j, "duration", v.duration);
  PutDuration(j, "downtime", v.downtime);
  PutString(j, "reason", v.reason);
  return j;
}

Status Decode(const Json& j, const std::string& path, BootRecord* out) {
  FieldReader r(j, path);
  r.String("nodeName", &out->node_name);
  r.String("libvirtVersion", &out->libvirt_version);
  r.String("qemuVersion", &out->qemu_version);
  out->raw = j;
  return r.status();
}

Json Encode(const BootRecord& v) {
  Json j = Base(v.raw);
  PutString(j, "nodeName", v.node_name);
  PutString(j, "libvirtVersion", v.libvirt_version);
  PutString(j, "qemuVersion", v.qemu_version);
  return j;
}

Status Decode(const Json& j, const std::string& path, VirtualMachineStatus* out) {
  FieldReader r(j, path);
  r.Enum("phase", &out->phase);
  r.String("nodeName", &out->node_name);
  r.String("domainUUID", &out->domain_uuid);
  r.String("activeMigration", &out->active_migration);
  r.List("migrationHistory", &out->migration_history);
  r.OptObject("firstBoot", &out->first_boot);
  r.Int("observedGeneration", &out->observed_generation);
  r.List("conditions", &out->conditions);
  out->raw = j;
  return r.status();
}

Json Encode(const VirtualMachineStatus& v) {
  Json j = Base(v.raw);
  PutEnum(j, "phase", v.phase);
  PutString(j, "nodeName", v.node_name);
  PutString(j, "domainUUID", v.domain_uuid);
  PutString(j, "activeMigration", v.active_migration);
  PutList(j, "migrationHistory", v.migration_history);
  PutOptObject(j, "firstBoot", v.first_boot);
  PutInt(j, "observedGeneration", v.observed_generation);
  PutList(j, "conditions", v.conditions);
  return j;
}

StatusOr<VirtualMachine> VirtualMachine::FromJson(const Json& j) { return DecodeKind<VirtualMachine>(j, SpecPresence::kRequired); }

Json VirtualMachine::ToJson() const { return EncodeKind(*this, SpecPresence::kRequired); }

void VirtualMachine::AppendHistory(MigrationRecord record) {
  status.migration_history.push_back(std::move(record));
  auto& h = status.migration_history;
  if (h.size() > kMaxMigrationHistory) h.erase(h.begin(), h.end() - static_cast<std::ptrdiff_t>(kMaxMigrationHistory));
}

}  // namespace ferry::api
