#include "migration/start_policy.h"

#include <fmt/printf.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ferry::migration {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
double MiB(double bytes) { return bytes / (1024.0 * 1024.0); }
double Secs(Millis m) { return static_cast<double>(m.count()) / 1000.0; }
double Shown(double s) { return std::isfinite(s) ? s : -1; }

std::string Secs1(double s) { return std::isfinite(s) ? fmt::sprintf("%.1f s", s) : "never"; }

}  // namespace

const char* StartKindName(StartKind k) {
  switch (k) {
    case StartKind::kReactive:
      return "reactive";
    case StartKind::kPreCopy:
      return "precopy";
    case StartKind::kPreCopyRaisedDowntime:
      return "precopy-raised-downtime";
    case StartKind::kPostCopyFirst:
      return "postcopy-first";
  }
  return "?";
}

double ProjectPreCopySeconds(double r, double memory_bytes, double bandwidth, double downtime_s) {
  if (!(bandwidth > 0) || !(memory_bytes > 0)) return kInf;
  const double fits = bandwidth * downtime_s;  // what the final pause can send
  if (memory_bytes <= fits) return memory_bytes / bandwidth;
  if (r >= 1) return kInf;
  // Pass i sends M r^i; after pass k−1 the dirty set M r^k fits in the pause.
  double total = 0, pass = memory_bytes;
  for (int i = 0; i < 10000 && pass > fits; ++i) {
    total += pass / bandwidth;
    pass *= r;
  }
  return total + pass / bandwidth;
}

StartDecision DecideStart(const StartInputs& in, const StartConfig& config) {
  StartDecision d;
  const auto& sched = in.downtime_schedule_ms;
  const std::uint32_t first_dt = sched.empty() ? 300 : sched.front();
  const std::uint32_t last_dt = sched.empty() ? 300 : sched.back();
  d.initial_downtime_ms = first_dt;
  if (!in.dirty_rate) {
    d.reason = "dirty rate not measured (" +
               (in.not_measured.empty() ? std::string("no measurement") : in.not_measured) +
               "): the convergence policy decides while pre-copy runs";
    return d;
  }
  const double D = static_cast<double>(in.dirty_rate->bytes_per_s);
  const double B = static_cast<double>(in.bandwidth_bytes_per_s);
  const double M = static_cast<double>(in.memory_bytes);
  const std::string measured = fmt::sprintf(
      "dirty rate %.1f MiB/s measured over %.1f s%s%s", MiB(D), Secs(in.dirty_rate->period),
      in.dirty_rate->method.empty() ? "" : " by ", in.dirty_rate->method.c_str());
  if (B <= 0 || M <= 0) {
    d.reason =
        measured + "; " +
        (B <= 0 ? "no bandwidth cap, so no link speed to project with" : "guest size unknown") +
        ": the convergence policy decides while pre-copy runs";
    return d;
  }
  const double r = D / B;
  const double t_link = M / B;
  const double t_pre = ProjectPreCopySeconds(r, M, B, first_dt / 1000.0);
  const double t_pre_raised = ProjectPreCopySeconds(r, M, B, last_dt / 1000.0);
  const double t_pf = t_link + Secs(config.postcopy_window) + Secs(config.switch_cost);
  const double hot = std::min(D * t_link, M);  // written while it runs on the target
  const double stall = hot / B;
  d.link_bound_s = t_link;
  d.precopy_s = Shown(t_pre);
  d.postcopy_first_s = t_pf;
  d.precopy_bytes_per_ram = std::isfinite(t_pre) ? t_pre / t_link : -1;
  d.postcopy_stall_s = stall;
  const std::string numbers = fmt::sprintf(
      "%s, link %.1f MiB/s, guest %.0f MiB (bound %.1f s): projected pre-copy %s (%s with "
      "%u ms downtime), post-copy first %.1f s stalling the guest ~%.1f s (%.0f MiB written "
      "meanwhile)",
      measured.c_str(), MiB(B), MiB(M), t_link, Secs1(t_pre).c_str(), Secs1(t_pre_raised).c_str(),
      last_dt, t_pf, stall, MiB(hot));
  const bool raise_pays =
      last_dt > first_dt &&
      (!std::isfinite(t_pre) ? std::isfinite(t_pre_raised)
                             : t_pre - t_pre_raised >= config.raise_downtime_gain * t_pre);
  if (t_pre <= config.time_bound * t_link || t_pre_raised <= config.time_bound * t_link) {
    if (t_pre > config.time_bound * t_link || raise_pays) {
      d.kind = StartKind::kPreCopyRaisedDowntime;
      d.initial_downtime_ms = last_dt;
      d.reason = "pre-copy with max downtime " + std::to_string(last_dt) +
                 " ms from the start: " + numbers;
    } else {
      d.kind = StartKind::kPreCopy;
      d.reason =
          fmt::sprintf("pre-copy (within %.2f x the bound, no slowdown): ", config.time_bound) +
          numbers;
    }
    return d;
  }
  if (in.allow_postcopy) {
    const double saved = t_pre - t_pf;  // ∞ when pre-copy never converges
    if (saved >= config.stall_weight * stall) {
      d.kind = StartKind::kPostCopyFirst;
      d.reason = fmt::sprintf(
                     "post-copy first (switch after %.1f s of pre-copy; saves %s for the "
                     "stall): ",
                     Secs(config.postcopy_window),
                     std::isfinite(saved) ? fmt::sprintf("%.1f s", saved).c_str() : "everything") +
                 numbers;
    } else {
      d.reason = fmt::sprintf(
                     "pre-copy first, post-copy later if it stalls (post-copy first would "
                     "save %.1f s but stall the guest ~%.1f s): ",
                     saved, stall) +
                 numbers;
    }
    return d;
  }
  if (r >= 1 || raise_pays) {
    d.kind = StartKind::kPreCopyRaisedDowntime;
    d.initial_downtime_ms = last_dt;
    d.reason = "pre-copy with max downtime " + std::to_string(last_dt) +
               " ms from the start (post-copy not allowed): " + numbers;
    return d;
  }
  d.kind = StartKind::kPreCopy;
  d.reason = "pre-copy (post-copy not allowed; a raised downtime would not help): " + numbers;
  return d;
}

}  // namespace ferry::migration
