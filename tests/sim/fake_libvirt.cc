#include "fake_libvirt.h"

namespace ferry::sim {

const char* DomainStateName(DomainState s) {
  switch (s) {
    case DomainState::kRunning: return "running";
    case DomainState::kPaused: return "paused";
    case DomainState::kIncoming: return "incoming";
    case DomainState::kShutoff: return "shutoff";
  }
  return "?";
}

void FakeLibvirt::CheckFenced(const std::string& node, const std::string& vm_uid,
                              const char* what) {
  for (const auto& [n, doms] : domains_) {
    if (n == node) continue;
    for (const auto& [name, d] : doms) {
      if (d.vm_uid != vm_uid) continue;
      if (d.state == DomainState::kRunning || d.state == DomainState::kPaused) {
        hazards_.push_back(std::string(what) + " of VM uid " + vm_uid + " on " + node +
                           " while a copy is " + DomainStateName(d.state) + " on " + n);
      }
    }
  }
}

void FakeLibvirt::AddNode(const std::string& node) {
  up_[node] = true;
  domains_[node];
}

void FakeLibvirt::SetUp(const std::string& node, bool up) {
  ++generation_;
  up_[node] = up;
  if (up) return;
  // A restarted libvirtd does not remember jobs that ended before it went down.
  for (auto it = finished_.begin(); it != finished_.end();)
    it = it->first.first == node ? finished_.erase(it) : std::next(it);
}

bool FakeLibvirt::Up(const std::string& node) const {
  auto it = up_.find(node);
  return it != up_.end() && it->second;
}

std::optional<Domain> FakeLibvirt::Lookup(const std::string& node, const std::string& name) const {
  if (!Up(node)) return std::nullopt;
  const auto& doms = domains_.at(node);
  auto it = doms.find(name);
  if (it == doms.end()) return std::nullopt;
  return it->second;
}

std::vector<Domain> FakeLibvirt::List(const std::string& node) const {
  std::vector<Domain> out;
  if (!Up(node)) return out;
  for (const auto& [name, d] : domains_.at(node)) out.push_back(d);
  return out;
}

bool FakeLibvirt::DefineAndStart(const std::string& node, const Domain& d) {
  ++generation_;
  if (!Up(node)) return false;
  auto& doms = domains_[node];
  auto it = doms.find(d.name);
  if (it != doms.end() && it->second.state != DomainState::kShutoff) return false;
  CheckFenced(node, d.vm_uid, "start");
  Domain nd = d;
  nd.state = DomainState::kRunning;
  doms[d.name] = nd;
  return true;
}

bool FakeLibvirt::Destroy(const std::string& node, const std::string& name) {
  ++generation_;
  if (!Up(node)) return false;
  auto& doms = domains_[node];
  auto it = doms.find(name);
  if (it == doms.end()) return true;
  // A job whose domain is destroyed on either side fails.
  for (auto& [uid, nj] : jobs_) {
    if (nj.first == name && (nj.second.source == node || nj.second.target == node)) {
      nj.second.end = Job::End::kFailsBeforeSwitch;
      nj.second.length = Clock::Duration::zero();
    }
  }
  doms.erase(it);
  return true;
}

bool FakeLibvirt::Shutdown(const std::string& node, const std::string& name) {
  ++generation_;
  if (!Up(node)) return false;
  auto& doms = domains_[node];
  auto it = doms.find(name);
  if (it == doms.end() || it->second.state != DomainState::kRunning) return false;
  it->second.state = DomainState::kShutoff;
  return true;
}

bool FakeLibvirt::Resume(const std::string& node, const std::string& name) {
  ++generation_;
  if (!Up(node)) return false;
  auto& doms = domains_[node];
  auto it = doms.find(name);
  if (it == doms.end() || it->second.state != DomainState::kPaused) return false;
  CheckFenced(node, it->second.vm_uid, "resume");
  it->second.state = DomainState::kRunning;
  return true;
}

bool FakeLibvirt::StartJob(const std::string& source, const std::string& name, Job job) {
  ++generation_;
  if (!Up(source) || !Up(job.target)) return false;
  auto& src = domains_[source];
  auto it = src.find(name);
  if (it == src.end() || it->second.state != DomainState::kRunning) return false;
  auto& dst = domains_[job.target];
  if (dst.count(name) != 0) return false;  // libvirt: "domain already exists" on the target
  if (jobs_.count(job.vmm_uid) != 0) return false;
  it->second.vmm_uid = job.vmm_uid;  // Ferry's mark, set before the job (ADR 6 §1)
  Domain incoming = it->second;
  incoming.state = DomainState::kIncoming;
  dst[name] = incoming;
  finished_.erase({source, job.vmm_uid});
  const std::string uid = job.vmm_uid;  // (the right side of = is evaluated first)
  jobs_[uid] = {name, std::move(job)};
  return true;
}

bool FakeLibvirt::CancelJob(const std::string& source, const std::string& vmm_uid) {
  ++generation_;
  if (!Up(source)) return false;
  auto it = jobs_.find(vmm_uid);
  if (it == jobs_.end() || it->second.second.source != source) return false;
  it->second.second.cancelled = true;
  return true;
}

JobResult FakeLibvirt::JobState(const std::string& source, const std::string& vmm_uid) const {
  if (!Up(source)) return JobResult::kNone;
  auto it = jobs_.find(vmm_uid);
  if (it != jobs_.end() && it->second.second.source == source) return JobResult::kActive;
  auto f = finished_.find({source, vmm_uid});
  return f == finished_.end() ? JobResult::kNone : f->second;
}

void FakeLibvirt::Progress(Clock::TimePoint now) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const std::string& name = it->second.first;
    const Job& job = it->second.second;
    const bool due = now >= job.started + job.length;
    // A libvirtd that is down stalls its side of the job; a cancel ends it before the switch.
    if (!job.cancelled && (!due || !Up(job.source) || !Up(job.target))) {
      ++it;
      continue;
    }
    auto& src = domains_[job.source];
    auto& dst = domains_[job.target];
    JobResult result = JobResult::kFailed;
    if (job.cancelled || job.end == Job::End::kFailsBeforeSwitch) {
      // Before the switch libvirt resumes nothing: the source never stopped running.
      auto d = dst.find(name);
      if (d != dst.end() && d->second.state == DomainState::kIncoming) dst.erase(d);
      result = job.cancelled ? JobResult::kCancelled : JobResult::kFailed;
    } else if (job.end == Job::End::kSucceeds) {
      auto d = dst.find(name);
      if (d != dst.end()) d->second.state = DomainState::kRunning;
      src.erase(name);
      result = JobResult::kCompleted;
    } else {
      // Broken at the switch: the source is paused, and the target may or may not have
      // taken over (the simulation drew which when it started the job).
      auto s = src.find(name);
      if (s != src.end()) s->second.state = DomainState::kPaused;
      auto d = dst.find(name);
      if (d != dst.end() && job.target_took_over) d->second.state = DomainState::kRunning;
      result = JobResult::kUnclear;
    }
    finished_[{job.source, job.vmm_uid}] = result;
    ++generation_;
    it = jobs_.erase(it);
  }
}

}  // namespace ferry::sim
