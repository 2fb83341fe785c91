#include "libvirt/libvirt_hypervisor.h"

#include <libvirt/libvirt.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "libvirt/libvirt_connection.h"
#include "libvirt/libvirt_error.h"
#include "libvirt/libvirt_events.h"
#include "libvirt/migration_args.h"
#include "migration/domain_xml.h"
#include "migration/migration_mark.h"

namespace ferry::libvirt {
namespace {

using migration::DomainFacts;
using migration::DomainRunState;
using migration::JobSample;
using migration::Millis;

// How long to wait for the source's JOB_COMPLETED event after the migrate call returned.
constexpr auto kCompletedEventWait = std::chrono::milliseconds(1500);

std::uint64_t ULL(virTypedParameterPtr p, int n, const char* name) {
  unsigned long long v = 0;
  return virTypedParamsGetULLong(p, n, name, &v) == 1 ? v : 0;
}

JobSample SampleFromParams(virTypedParameterPtr p, int n) {
  JobSample s;
  s.elapsed = Millis(ULL(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED));
  s.data_total = ULL(p, n, VIR_DOMAIN_JOB_DATA_TOTAL);
  s.data_processed = ULL(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
  s.data_remaining = ULL(p, n, VIR_DOMAIN_JOB_DATA_REMAINING);
  s.memory_total = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_TOTAL);
  s.memory_processed = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
  s.memory_remaining = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_REMAINING);
  s.disk_total = ULL(p, n, VIR_DOMAIN_JOB_DISK_TOTAL);
  s.disk_processed = ULL(p, n, VIR_DOMAIN_JOB_DISK_PROCESSED);
  s.disk_remaining = ULL(p, n, VIR_DOMAIN_JOB_DISK_REMAINING);
  std::uint64_t page = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE);
  if (page == 0) page = 4096;
  s.dirty_rate_bytes_per_s = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE) * page;
  s.transfer_rate_bytes_per_s = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_BPS);
  s.iteration = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
  s.postcopy_requests = ULL(p, n, VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS);
  int throttle = 0;
  if (virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE, &throttle) == 1)
    s.throttle_percent = throttle;
  unsigned long long downtime = 0;
  if (virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DOWNTIME, &downtime) == 1)
    s.downtime = Millis(downtime);
  return s;
}

DomainRunState MapState(int state, int reason) {
  switch (state) {
    case VIR_DOMAIN_RUNNING:
      return DomainRunState::kRunning;
    case VIR_DOMAIN_PAUSED:
      if (reason == VIR_DOMAIN_PAUSED_POSTCOPY) return DomainRunState::kPausedPostCopy;
      if (reason == VIR_DOMAIN_PAUSED_POSTCOPY_FAILED) return DomainRunState::kPausedPostCopyFailed;
      return DomainRunState::kPaused;
    case VIR_DOMAIN_SHUTOFF:
      return DomainRunState::kShutOff;
    default:
      return DomainRunState::kOther;
  }
}

template <typename F>
Status On(LibvirtConnection& c, const std::string& name, const char* call, F&& fn) {
  auto d = c.Domain(name);
  if (!d.ok()) return d.status();
  if (fn(d->get()) < 0) return c.Failed(call, d->get());
  return OkStatus();
}

StatusOr<DomainRunState> StateOn(LibvirtConnection& c, const std::string& name) {
  auto d = c.Domain(name);
  if (!d.ok()) {
    if (d.status().code() == StatusCode::kNotFound) return DomainRunState::kNotFound;
    return d.status();
  }
  int state = 0, reason = 0;
  if (virDomainGetState(d->get(), &state, &reason, 0) < 0) {
    return c.Failed("virDomainGetState", d->get());
  }
  return MapState(state, reason);
}

// Completed-job statistics kept by libvirtd (VIR_DOMAIN_JOB_STATS_COMPLETED).
std::optional<JobSample> CompletedOn(LibvirtConnection& c, const std::string& name) {
  auto d = c.Domain(name);
  if (!d.ok()) return std::nullopt;
  int type = 0;
  TypedParams tp;
  if (virDomainGetJobStats(d->get(), &type, tp.out(), tp.count(),
                           VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) <
      0) {
    (void)c.Failed("virDomainGetJobStats(COMPLETED)", d->get());
    return std::nullopt;
  }
  if (tp.size() > 0 && ULL(tp.get(), tp.size(), VIR_DOMAIN_JOB_TIME_ELAPSED) > 0) {
    return SampleFromParams(tp.get(), tp.size());
  }
  return std::nullopt;
}

// What the JOB_COMPLETED callback reaches (see DomainEventRegistration).
struct JobEventSink {
  std::mutex mu;
  std::map<std::string, JobSample> completed;  // by domain name
};

class LibvirtHypervisor final : public migration::MigrationHypervisor {
 public:
  explicit LibvirtHypervisor(const std::string& source_uri)
      : migrate_(source_uri),
        monitor_(source_uri, [this](virConnectPtr c) { job_events_.RegisterOn(c); }) {}

  StatusOr<DomainFacts> InspectDomain(const std::string& name) override {
    auto d = monitor_.Domain(name);
    if (!d.ok()) return d.status();
    virDomainInfo info{};
    virDomainPtr used = d->get();
    if (virDomainGetInfo(d->get(), &info) < 0) return monitor_.Failed("virDomainGetInfo", used);
    DomainFacts f;
    f.active = info.state == VIR_DOMAIN_RUNNING || info.state == VIR_DOMAIN_PAUSED ||
               info.state == VIR_DOMAIN_BLOCKED;
    f.paused = info.state == VIR_DOMAIN_PAUSED;
    f.memory_bytes = static_cast<std::uint64_t>(info.maxMem) * 1024;
    const int persistent = virDomainIsPersistent(d->get());
    if (persistent < 0) return monitor_.Failed("virDomainIsPersistent", used);
    f.persistent = persistent == 1;
    CStringPtr xml(virDomainGetXMLDesc(d->get(), 0));
    if (!xml) return monitor_.Failed("virDomainGetXMLDesc", used);
    auto parsed = migration::ParseDomainXml(xml.get());
    if (!parsed.ok()) return parsed.status();
    f.local_disk_targets = migration::LocalDiskTargets(*parsed);
    for (const auto& target : f.local_disk_targets) {
      virDomainBlockInfo bi{};
      if (virDomainGetBlockInfo(d->get(), target.c_str(), &bi, 0) < 0) {
        return monitor_.Failed("virDomainGetBlockInfo(" + target + ")", used);
      }
      f.local_disk_bytes += bi.capacity;
    }
    return f;
  }

  StatusOr<DomainRunState> SourceState(const std::string& name) override {
    return StateOn(monitor_, name);
  }

  Status Migrate(const std::string& name, const std::string& destination_uri,
                 const migration::MigrationPlan& plan) override {
    auto d = migrate_.Domain(name);
    if (!d.ok()) return d.status();
    const LibvirtMigrationArgs args = ToLibvirtArgs(plan);
    TypedParams tp;
    for (const auto& p : args.params) {
      int rc = 0;
      if (const auto* u = std::get_if<std::uint64_t>(&p.value)) {
        rc = virTypedParamsAddULLong(tp.out(), tp.count(), tp.capacity(), p.name.c_str(), *u);
      } else if (const auto* i = std::get_if<int>(&p.value)) {
        rc = virTypedParamsAddInt(tp.out(), tp.count(), tp.capacity(), p.name.c_str(), *i);
      } else {
        rc = virTypedParamsAddString(tp.out(), tp.count(), tp.capacity(), p.name.c_str(),
                                     std::get<std::string>(p.value).c_str());
      }
      if (rc < 0) return LastErrorStatus("virTypedParamsAdd(" + p.name + ")");
    }
    {
      std::lock_guard<std::mutex> l(job_events_.sink().mu);
      job_events_.sink().completed.erase(name);
    }
    if (virDomainMigrateToURI3(d->get(), destination_uri.c_str(), tp.get(), tp.size(), args.flags) <
        0) {
      return migrate_.Failed("virDomainMigrateToURI3", d->get());
    }
    return OkStatus();
  }

  StatusOr<JobSample> GetJobStats(const std::string& name) override {
    auto d = monitor_.Domain(name);
    if (!d.ok()) return d.status();
    int type = VIR_DOMAIN_JOB_NONE;
    TypedParams tp;
    if (virDomainGetJobStats(d->get(), &type, tp.out(), tp.count(), 0) < 0) {
      return monitor_.Failed("virDomainGetJobStats", d->get());
    }
    JobSample s = SampleFromParams(tp.get(), tp.size());
    s.active = type != VIR_DOMAIN_JOB_NONE && type != VIR_DOMAIN_JOB_COMPLETED &&
               type != VIR_DOMAIN_JOB_FAILED && type != VIR_DOMAIN_JOB_CANCELLED;
    int op = 0;
    s.is_migration_out =
        s.active && virTypedParamsGetInt(tp.get(), tp.size(), VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
        op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
    int state = 0, reason = 0;
    if (virDomainGetState(d->get(), &state, &reason, 0) == 0) {
      s.postcopy = state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_POSTCOPY;
      s.postcopy_failed = state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_POSTCOPY_FAILED;
    }
    return s;
  }

  Status SetMaxDowntime(const std::string& name, std::uint32_t ms) override {
    return OnSource(name, "virDomainMigrateSetMaxDowntime",
                    [ms](virDomainPtr d) { return virDomainMigrateSetMaxDowntime(d, ms, 0); });
  }
  Status StartPostCopy(const std::string& name) override {
    return OnSource(name, "virDomainMigrateStartPostCopy",
                    [](virDomainPtr d) { return virDomainMigrateStartPostCopy(d, 0); });
  }
  Status AbortJob(const std::string& name) override {
    return OnSource(name, "virDomainAbortJob", [](virDomainPtr d) { return virDomainAbortJob(d); });
  }
  Status Resume(const std::string& name) override {
    return OnSource(name, "virDomainResume", [](virDomainPtr d) { return virDomainResume(d); });
  }
  Status Shutdown(const std::string& name) override {
    return OnSource(name, "virDomainShutdown", [](virDomainPtr d) { return virDomainShutdown(d); });
  }
  Status Destroy(const std::string& name) override {
    return OnSource(name, "virDomainDestroy", [](virDomainPtr d) { return virDomainDestroy(d); });
  }
  Status StartPaused(const std::string& name) override {
    return OnSource(name, "virDomainCreateWithFlags(PAUSED)", [](virDomainPtr d) {
      return virDomainCreateWithFlags(d, VIR_DOMAIN_START_PAUSED);
    });
  }

  Status SetMigrationMark(const std::string& name, const std::string& uid) override {
    if (!migration::ValidMarkUid(uid)) {
      return InvalidError("migration mark: '" + uid + "' is not a Kubernetes uid");
    }
    const std::string xml = migration::MigrationMarkXml(uid);
    return OnSource(name, "virDomainSetMetadata", [&xml](virDomainPtr d) {
      unsigned int flags = VIR_DOMAIN_AFFECT_LIVE;
      if (virDomainIsPersistent(d) == 1) flags |= VIR_DOMAIN_AFFECT_CONFIG;
      if (virDomainIsActive(d) != 1) flags = VIR_DOMAIN_AFFECT_CONFIG;
      return virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, xml.c_str(),
                                  migration::kMigrationMarkPrefix, migration::kMigrationMarkXmlns,
                                  flags);
    });
  }

  // QEMU's calc-dirty-rate (page sampling, libvirt >= 7.2) in whole seconds, then its
  // result from the domain's dirtyrate stats.
  StatusOr<migration::DirtyRateMeasurement> MeasureDirtyRate(const std::string& name,
                                                             Millis length) override {
    auto d = monitor_.Domain(name);
    if (!d.ok()) return d.status();
    const int secs = static_cast<int>(std::max<std::int64_t>(1, (length.count() + 500) / 1000));
    if (virDomainStartDirtyRateCalc(d->get(), secs, 0) < 0) {
      return monitor_.Failed("virDomainStartDirtyRateCalc", d->get());
    }
    std::this_thread::sleep_for(std::chrono::seconds(secs));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(secs + 3);
    for (;;) {
      virDomainPtr doms[] = {d->get(), nullptr};
      virDomainStatsRecordPtr* recs = nullptr;
      const int n = virDomainListGetStats(doms, VIR_DOMAIN_STATS_DIRTYRATE, &recs, 0);
      if (n < 0) return monitor_.Failed("virDomainListGetStats(DIRTYRATE)", d->get());
      int status = -1;
      long long mib = -1;
      int period = 0;
      std::string method = "page-sampling";
      if (n > 0) {
        virTypedParameterPtr p = recs[0]->params;
        const int np = recs[0]->nparams;
        (void)virTypedParamsGetInt(p, np, "dirtyrate.calc_status", &status);
        (void)virTypedParamsGetLLong(p, np, "dirtyrate.megabytes_per_second", &mib);
        (void)virTypedParamsGetInt(p, np, "dirtyrate.calc_period", &period);
        const char* m = nullptr;
        if (virTypedParamsGetString(p, np, "dirtyrate.calc_mode", &m) == 1 && m != nullptr) {
          method = m;
        }
      }
      virDomainStatsRecordListFree(recs);
      // calc_status: 0 unstarted, 1 measuring, 2 measured.
      if (status == 2 && mib >= 0) {
        return migration::DirtyRateMeasurement{static_cast<std::uint64_t>(mib) * 1024 * 1024,
                                               Millis(1000LL * (period > 0 ? period : secs)),
                                               method};
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return UnavailableError("dirty-rate calculation did not finish within " +
                                std::to_string(secs + 3) + " s (calc_status " +
                                std::to_string(status) + ")");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::optional<JobSample> CompletedJobStats(const std::string& name) override {
    const auto deadline = std::chrono::steady_clock::now() + kCompletedEventWait;
    for (;;) {
      {
        std::lock_guard<std::mutex> l(job_events_.sink().mu);
        if (auto it = job_events_.sink().completed.find(name);
            it != job_events_.sink().completed.end())
          return it->second;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return CompletedOn(monitor_, name);
  }

 private:
  template <typename F>
  Status OnSource(const std::string& name, const char* call, F&& fn) {
    return On(monitor_, name, call, std::forward<F>(fn));
  }

  // JOB_COMPLETED on the source: after post-copy it is the only place the final statistics
  // (downtime, bytes) of the job appear. Registered again on every reconnect of monitor_.
  static void OnJobCompleted(virConnectPtr, virDomainPtr dom, virTypedParameterPtr p, int n,
                             void* opaque) {
    JobEventSink& sink = DomainEventRegistration<JobEventSink>::From(opaque);
    const char* name = virDomainGetName(dom);
    if (name == nullptr) return;
    JobSample s = SampleFromParams(p, n);
    std::lock_guard<std::mutex> l(sink.mu);
    sink.completed[name] = s;
  }

  // Before monitor_, whose on-open hook registers it.
  DomainEventRegistration<JobEventSink> job_events_{
      VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
      VIR_DOMAIN_EVENT_CALLBACK(&LibvirtHypervisor::OnJobCompleted)};
  LibvirtConnection migrate_;
  LibvirtConnection monitor_;
};

class LibvirtTarget final : public migration::TargetProbe, public migration::TargetHypervisor {
 public:
  explicit LibvirtTarget(const std::string& uri) : conn_(uri) {}

  migration::TargetHealth Health() override {
    if (conn_.Alive()) return {true, "keepalive'd connection to " + conn_.uri()};
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> l(mu_);
      if (tried_ && now - last_try_ < kReconnectEvery) return {false, last_error_};
      tried_ = true;
      last_try_ = now;
    }
    auto c = conn_.Get();
    std::lock_guard<std::mutex> l(mu_);
    if (c.ok()) return {true, "connected to " + conn_.uri()};
    last_error_ = "no connection to the target's libvirtd: " + c.status().message();
    return {false, last_error_};
  }
  migration::TargetHypervisor* direct() override { return this; }

  StatusOr<DomainRunState> GuestState(const std::string& name) override {
    return StateOn(conn_, name);
  }
  Status StartGuest(const std::string& name) override {
    return On(conn_, name, "virDomainCreate (target)",
              [](virDomainPtr d) { return virDomainCreate(d); });
  }
  Status DestroyGuest(const std::string& name) override {
    return On(conn_, name, "virDomainDestroy (target)",
              [](virDomainPtr d) { return virDomainDestroy(d); });
  }
  std::optional<JobSample> CompletedJobStats(const std::string& name) override {
    return CompletedOn(conn_, name);
  }

 private:
  // A dead target is re-dialled at most this often (Health() runs at every poll).
  static constexpr auto kReconnectEvery = std::chrono::seconds(2);
  LibvirtConnection conn_;
  std::mutex mu_;
  bool tried_ = false;
  std::chrono::steady_clock::time_point last_try_{};
  std::string last_error_;
};

}  // namespace

std::unique_ptr<migration::MigrationHypervisor> NewLibvirtHypervisor(
    const std::string& source_uri) {
  return std::make_unique<LibvirtHypervisor>(source_uri);
}

std::unique_ptr<migration::TargetProbe> NewLibvirtTarget(const std::string& target_client_uri) {
  return std::make_unique<LibvirtTarget>(target_client_uri);
}

}  // namespace ferry::libvirt
