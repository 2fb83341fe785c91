#include "libvirt/libvirt_node.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdio>
#include <map>
#include <mutex>

#include "domain/capabilities.h"
#include "domain/domain_description.h"
#include "libvirt/domain_state_map.h"
#include "libvirt/libvirt_connection.h"
#include "libvirt/libvirt_error.h"
#include "libvirt/libvirt_events.h"
#include "libvirt/libvirt_storage.h"

namespace ferry::libvirt {
namespace {

using domain::DomainEvent;
using domain::DomainInfo;
using domain::HostFacts;

std::string RunVersion(const std::string& emulator) {
  std::string cmd = "'";
  for (char c : emulator) cmd += c == '\'' ? std::string("'\\''") : std::string(1, c);
  cmd += "' --version 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ::pclose(p);
  return domain::ParseQemuVersionOutput(out);
}

// What the lifecycle callback reaches (see DomainEventRegistration).
struct NodeEventSink {
  std::mutex mu;
  std::function<void(const DomainEvent&)> handler;
};

class LibvirtNodeHypervisor final : public domain::NodeHypervisor {
 public:
  explicit LibvirtNodeHypervisor(LibvirtNodeOptions o)
      : options_(std::move(o)),
        conn_(options_.uri, [this](virConnectPtr c) { OnOpen(c); }),
        storage_(conn_) {}

  ~LibvirtNodeHypervisor() override {
    {
      std::lock_guard<std::mutex> l(lifecycle_.sink().mu);
      lifecycle_.sink().handler = {};
    }
    lifecycle_.Deregister();
  }

  StatusOr<HostFacts> Host() override {
    auto c = conn_.Get();
    if (!c.ok()) return c.status();
    virConnectPtr conn = c->get();
    HostFacts f;
    CStringPtr caps(virConnectGetCapabilities(conn));
    if (!caps) return conn_.Failed("virConnectGetCapabilities", conn);
    FERRY_RETURN_IF_ERROR(domain::ParseCapabilities(caps.get(), &f));
    virNodeInfo ni{};
    if (virNodeGetInfo(conn, &ni) < 0) return conn_.Failed("virNodeGetInfo", conn);
    if (f.memory_bytes == 0) f.memory_bytes = static_cast<uint64_t>(ni.memory) * 1024;
    if (f.cpus.empty()) {
      for (unsigned i = 0; i < ni.cpus; ++i) f.cpus.push_back(static_cast<int>(i));
    }
    unsigned long lib = 0;
    if (virConnectGetLibVersion(conn, &lib) < 0)
      return conn_.Failed("virConnectGetLibVersion", conn);
    f.libvirt_version = domain::FormatLibvirtVersion(lib);
    FERRY_RETURN_IF_ERROR(FillEmulatorFacts(conn, &f));
    return f;
  }

  StatusOr<std::vector<DomainInfo>> ListDomains() override {
    auto c = conn_.Get();
    if (!c.ok()) return c.status();
    virDomainPtr* doms = nullptr;
    const int n = virConnectListAllDomains(c->get(), &doms, 0);
    if (n < 0) return conn_.Failed("virConnectListAllDomains", c->get());
    std::vector<DomainPtr> owned;
    for (int i = 0; i < n; ++i) owned.emplace_back(doms[i]);
    free(doms);  // NOLINT: libvirt allocates with malloc
    std::vector<DomainInfo> out;
    for (auto& d : owned) {
      auto info = Describe(d.get());
      if (info.ok()) {
        out.push_back(std::move(*info));
      } else if (info.status().code() != StatusCode::kNotFound) {
        return info.status();  // a domain that vanished meanwhile is simply not listed
      }
    }
    return out;
  }

  StatusOr<std::optional<DomainInfo>> GetDomain(const std::string& name) override {
    auto d = conn_.Domain(name);
    if (!d.ok()) {
      if (d.status().code() == StatusCode::kNotFound) return std::optional<DomainInfo>();
      return d.status();
    }
    auto info = Describe(d->get());
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) return std::optional<DomainInfo>();
      return info.status();
    }
    return std::optional<DomainInfo>(std::move(*info));
  }

  Status Define(const std::string& xml) override {
    auto c = conn_.Get();
    if (!c.ok()) return c.status();
    DomainPtr d(virDomainDefineXMLFlags(c->get(), xml.c_str(), VIR_DOMAIN_DEFINE_VALIDATE));
    if (!d) return conn_.Failed("virDomainDefineXMLFlags", c->get());
    return OkStatus();
  }

  Status Start(const std::string& name) override {
    return On(name, "virDomainCreate", [](virDomainPtr d) { return virDomainCreate(d); });
  }
  Status Shutdown(const std::string& name) override {
    return On(name, "virDomainShutdown", [](virDomainPtr d) { return virDomainShutdown(d); });
  }
  Status Destroy(const std::string& name) override {
    return On(name, "virDomainDestroy", [](virDomainPtr d) {
      const int active = virDomainIsActive(d);
      if (active == 0) return 0;  // already shut off
      return virDomainDestroy(d);
    });
  }
  Status Undefine(const std::string& name) override {
    Status st = On(name, "virDomainUndefineFlags", [](virDomainPtr d) {
      return virDomainUndefineFlags(
          d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                 VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM);
    });
    if (st.code() != StatusCode::kInvalid) return st;
    // A driver without NVRAM or checkpoints (test:///) refuses those flags.
    return On(name, "virDomainUndefineFlags", [](virDomainPtr d) {
      return virDomainUndefineFlags(
          d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA);
    });
  }

  StatusOr<domain::FileInfo> StatFile(const std::string& path) override {
    return storage_.Stat(path);
  }
  Status CreateDiskImage(const std::string& path, domain::DiskImageFormat format,
                         uint64_t size_bytes) override {
    return storage_.Create(path, format, size_bytes);
  }
  Status DeleteDiskImage(const std::string& path) override { return storage_.Delete(path); }

  void SetEventHandler(std::function<void(const DomainEvent&)> handler) override {
    std::lock_guard<std::mutex> l(lifecycle_.sink().mu);
    lifecycle_.sink().handler = std::move(handler);
  }

  Status Ping() override {
    auto c = conn_.Get();
    if (!c.ok()) return c.status();
    unsigned long v = 0;
    if (virConnectGetLibVersion(c->get(), &v) < 0)
      return conn_.Failed("virConnectGetLibVersion", c->get());
    return OkStatus();
  }

 private:
  template <typename F>
  Status On(const std::string& name, const char* call, F&& fn) {
    auto d = conn_.Domain(name);
    if (!d.ok()) return d.status();
    // Before the call: every libvirt API (virDomainGetConnect too) resets the thread's error.
    virConnectPtr used = virDomainGetConnect(d->get());
    if (fn(d->get()) < 0) return conn_.Failed(call, used);
    return OkStatus();
  }

  StatusOr<DomainInfo> Describe(virDomainPtr d) {
    virConnectPtr used = virDomainGetConnect(d);
    DomainInfo info;
    CStringPtr xml(virDomainGetXMLDesc(d, 0));
    if (!xml) return conn_.Failed("virDomainGetXMLDesc", used);
    FERRY_RETURN_IF_ERROR(domain::ParseDomainDescription(xml.get(), &info));
    int state = 0, reason = 0;
    if (virDomainGetState(d, &state, &reason, 0) < 0)
      return conn_.Failed("virDomainGetState", used);
    const MappedState m = MapDomainState(state, reason);
    info.state = m.state;
    info.reason = m.reason;
    const int persistent = virDomainIsPersistent(d);
    if (persistent < 0) return conn_.Failed("virDomainIsPersistent", used);
    info.persistent = persistent == 1;
    if (info.IsActive()) {
      int type = VIR_DOMAIN_JOB_NONE;
      TypedParams tp;
      if (virDomainGetJobStats(d, &type, tp.out(), tp.count(), 0) == 0) {
        int op = 0;
        info.migration_out =
            type == VIR_DOMAIN_JOB_UNBOUNDED &&
            virTypedParamsGetInt(tp.get(), tp.size(), VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
            op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
      } else {
        (void)CaptureLastError();  // a job query racing the domain's end is not an error
      }
    }
    return info;
  }

  Status FillEmulatorFacts(virConnectPtr conn, HostFacts* f) {
    std::lock_guard<std::mutex> l(emulator_mu_);
    if (!emulator_facts_) {
      CStringPtr domcaps(virConnectGetDomainCapabilities(
          conn, options_.emulator.empty() ? nullptr : options_.emulator.c_str(),
          options_.arch.c_str(), options_.machine.empty() ? nullptr : options_.machine.c_str(),
          options_.virt_type.c_str(), 0));
      std::vector<std::string> models;
      if (domcaps) {
        auto parsed = domain::ParseUsableCpuModels(domcaps.get());
        if (!parsed.ok()) return parsed.status();
        models = *parsed;
      } else {
        // A driver without domain capabilities (test:///) lists no CPU models: named models
        // then fail the target check with a clear reason.
        Status st = conn_.Failed("virConnectGetDomainCapabilities", conn);
        if (st.code() == StatusCode::kUnavailable) return st;
      }
      std::string qemu = options_.qemu_version;
      if (qemu.empty() && !options_.emulator.empty()) qemu = RunVersion(options_.emulator);
      if (qemu.empty()) {
        unsigned long hv = 0;
        if (virConnectGetVersion(conn, &hv) == 0) qemu = domain::FormatLibvirtVersion(hv);
      }
      emulator_facts_ = std::make_pair(models, qemu);
    }
    f->cpu_models = emulator_facts_->first;
    f->qemu_version = emulator_facts_->second;
    return OkStatus();
  }

  // On every (re)open: lifecycle events on the new connection, and a notice to the handler
  // (empty domain) that everything should be looked at again.
  void OnOpen(virConnectPtr c) {
    std::function<void(const DomainEvent&)> handler;
    lifecycle_.RegisterOn(c);
    {
      std::lock_guard<std::mutex> l(lifecycle_.sink().mu);
      handler = lifecycle_.sink().handler;
    }
    if (handler) handler(DomainEvent{});
  }

  static int OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
    NodeEventSink& sink = DomainEventRegistration<NodeEventSink>::From(opaque);
    const char* name = virDomainGetName(dom);
    if (name == nullptr) return 0;
    const MappedEvent m = MapLifecycleEvent(event, detail);
    std::function<void(const DomainEvent&)> handler;
    {
      std::lock_guard<std::mutex> l(sink.mu);
      handler = sink.handler;
    }
    if (handler) handler(DomainEvent{name, m.type, m.detail});
    return 0;
  }


  const LibvirtNodeOptions options_;
  // Before conn_, whose on-open hook (OnOpen) registers it.
  DomainEventRegistration<NodeEventSink> lifecycle_{
      VIR_DOMAIN_EVENT_ID_LIFECYCLE,
      VIR_DOMAIN_EVENT_CALLBACK(&LibvirtNodeHypervisor::OnLifecycle)};
  LibvirtConnection conn_;
  LibvirtStorage storage_;
  std::mutex emulator_mu_;
  std::optional<std::pair<std::vector<std::string>, std::string>> emulator_facts_;
};

}  // namespace

std::unique_ptr<domain::NodeHypervisor> NewLibvirtNodeHypervisor(LibvirtNodeOptions options) {
  EnsureEventLoop();
  return std::make_unique<LibvirtNodeHypervisor>(std::move(options));
}

}  // namespace ferry::libvirt
