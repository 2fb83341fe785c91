#include "format.h"

#include <cstdio>

#include "api/group.h"
#include "api/json_fields.h"
#include "placement/format.h"

namespace ferry::kubectl {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

std::string Printf(const char* fmt, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// "0", "512", "27.8Mi", "1.5Gi", "128Mi": at most one decimal in the largest unit below the
// value (a whole number prints without ".0").
std::string Bytes(int64_t b) {
  static const char* const kUnits[] = {"Ki", "Mi", "Gi", "Ti"};
  if (b < 1024 && b > -1024) return std::to_string(b);
  double v = static_cast<double>(b);
  int unit = -1;
  while ((v >= 1024 || v <= -1024) && unit < 3) {
    v /= 1024;
    ++unit;
  }
  std::string num = Printf("%.1f", v);
  if (num.size() > 2 && num.compare(num.size() - 2, 2, ".0") == 0) num.resize(num.size() - 2);
  return num + kUnits[unit];
}

bool PostCopyRecovering(const api::VirtualMachineMigration& vmm) {
  for (const auto& c : vmm.status.conditions) {
    if (c.type == api::kConditionPostCopyRecovering && c.status == api::ConditionStatus::kTrue)
      return true;
  }
  return false;
}

std::string Nodes(const api::VirtualMachineMigration& vmm) {
  const std::string& src = vmm.status.source_node;
  const std::string& dst = vmm.status.target_node;
  if (src.empty() && dst.empty()) return "";
  return (src.empty() ? "?" : src) + " -> " + (dst.empty() ? "?" : dst);
}

std::string VmKey(const api::VirtualMachineMigration& vmm) {
  return vmm.metadata.namespace_ + "/" + vmm.spec.vm_name;
}

void Append(std::string* line, const std::string& part) {
  if (part.empty()) return;
  if (!line->empty()) *line += "  ";
  *line += part;
}

}  // namespace

std::string HumanDuration(nanoseconds d) {
  if (d < nanoseconds(0)) return "-" + HumanDuration(-d);
  const auto ms = duration_cast<milliseconds>(d).count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 10000) return Printf("%.1fs", static_cast<double>(ms) / 1000.0);
  const auto s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s / 3600) + "h" +
         (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
}

std::string Age(const std::optional<api::WallTime>& then, api::WallTime now) {
  if (!then) return "<unknown>";
  const auto s = std::max<int64_t>(0, duration_cast<seconds>(now - *then).count());
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string CompletedMode(const api::VirtualMachineMigration& vmm) {
  const auto& st = vmm.status;
  if (st.effective_mode != api::MigrationMode::kAuto)
    return std::string(api::ToString(st.effective_mode));
  if (st.phase != api::MigrationPhase::kSucceeded) return "-";
  return st.progress && st.progress->post_copy_started_at ? "PostCopy" : "PreCopy";
}

std::string Rate(int64_t bytes_per_second) { return Bytes(bytes_per_second) + "/s"; }

std::string ProgressLine(const api::VirtualMachineMigration& vmm, api::WallTime now) {
  using api::MigrationPhase;
  const auto& st = vmm.status;
  std::string line = std::string(api::ToString(st.phase));
  if (line.empty()) line = "Pending";
  switch (st.phase) {
    case MigrationPhase::kUnset:
    case MigrationPhase::kPending:
    case MigrationPhase::kScheduling:
      Append(&line, st.message.empty() ? "" : "waiting: " + st.message);
      return line;
    case MigrationPhase::kScheduled:
    case MigrationPhase::kPreparingTarget:
    case MigrationPhase::kTargetReady:
      Append(&line, Nodes(vmm));
      return line;
    case MigrationPhase::kRunning:
      break;
    default: {
      Append(&line, Nodes(vmm));
      if (st.phase == MigrationPhase::kSucceeded && st.downtime) {
        Append(&line, "downtime " + HumanDuration(*st.downtime));
      }
      if (st.phase != MigrationPhase::kSucceeded) Append(&line, st.reason);
      return line;
    }
  }
  if (!st.progress || st.progress->total_bytes == 0) {
    Append(&line, Nodes(vmm));
    Append(&line, "starting");
    return line;
  }
  const api::MigrationProgress& p = *st.progress;
  if (p.post_copy_started_at)
    Append(&line, "post-copy since " + HumanDuration(now - *p.post_copy_started_at));
  if (PostCopyRecovering(vmm)) Append(&line, "recovering the connection");
  Append(&line, std::to_string(p.percent) + "%");
  Append(&line, "remaining " + Bytes(p.remaining_bytes) + " of " + Bytes(p.total_bytes));
  Append(&line, "dirty " + Rate(p.dirty_rate_bytes_per_second) + " vs transfer " +
                    Rate(p.transfer_rate_bytes_per_second));
  if (p.iteration > 0) Append(&line, "iteration " + std::to_string(p.iteration));
  if (p.auto_converge_throttle_percent > 0) {
    Append(&line, "throttled " + std::to_string(p.auto_converge_throttle_percent) + "%");
  }
  Append(&line, p.estimated_time_remaining ? "ETA " + HumanDuration(*p.estimated_time_remaining)
                                           : "ETA -");
  return line;
}

std::string OutcomeLine(const api::VirtualMachineMigration& vmm, std::optional<nanoseconds> took) {
  using api::MigrationPhase;
  const auto& st = vmm.status;
  switch (st.phase) {
    case MigrationPhase::kSucceeded: {
      std::string line = "Succeeded: " + VmKey(vmm) + " moved " + Nodes(vmm);
      if (took) line += " in " + HumanDuration(*took);
      line += " (" + CompletedMode(vmm);
      if (st.progress && st.progress->post_copy_started_at) line += ", switched to post-copy";
      if (st.downtime) line += ", downtime " + HumanDuration(*st.downtime);
      return line + ")";
    }
    case MigrationPhase::kCancelled:
      return "Cancelled: " + VmKey(vmm) + " stays on " +
             (st.source_node.empty() ? std::string("its node") : st.source_node) +
             (st.message.empty() ? "" : " (" + st.message + ")");
    case MigrationPhase::kFailed:
      return "Failed" + (st.reason.empty() ? "" : " (" + st.reason + ")") + ": " + VmKey(vmm) +
             (st.source_node.empty() ? "" : " stays on " + st.source_node) +
             (st.message.empty() ? "" : ": " + st.message);
    default:
      return std::string(api::ToString(st.phase)) + ": " + VmKey(vmm);
  }
}

}  // namespace ferry::kubectl
