#include "view_compare.h"

#include <sstream>

#include "placement/drain.h"
#include "placement/group_move.h"
#include "placement/group_status.h"
#include "placement/placement.h"
#include "placement/rebalance.h"

namespace ferry::placement::testing {
namespace {

std::string UsageOf(const ClusterView& v, NodeId n) {
  const UsageTable& u = v.usage();
  const auto i = static_cast<size_t>(n);
  const NodeUse& use = u.nodes[i];
  std::ostringstream out;
  out << v.node(n).name << ": cpu " << use.cpu_millis << " mem " << use.memory_bytes << " ded "
      << use.dedicated_cpus << " inflight " << use.inflight << " scores " << int{use.pinned_score}
      << "/" << int{use.inflight_score} << " pools";
  for (int64_t p : u.hugepage_bytes[i]) out << " " << p;
  const NumaLoad& l = u.numa[i];
  out << " numa " << l.share_cpu << "/" << l.share_mem << "/" << l.total_cpu << "/" << l.total_mem
      << "/" << l.failures << " entries";
  for (const NumaEntry& e : v.numa_entries(n)) {
    out << " " << e.cells << "x" << e.cpu_share << "/" << e.mem_share;
  }
  out << " residents";
  for (VmId r : v.vms_on(n)) out << " " << v.vm(r).name;
  out << " inbound";
  for (VmId r : v.inbound(n)) out << " " << v.vm(r).name;
  return out.str();
}

std::string DecisionOf(const ClusterView& v, const TargetDecision& d) {
  std::ostringstream out;
  out << d.vm << " scheduled=" << d.scheduled << " node=" << d.node
      << " code=" << ReasonName(d.code) << " compliant=" << d.compliant << " [" << d.compliance
      << "] reason=" << d.reason;
  for (const std::string& line : ExplainNodes(v, d)) out << "\n    " << line;
  return out.str();
}

std::string DrainOf(const StatusOr<DrainPlan>& p) {
  if (!p.ok()) return p.status().ToString();
  std::ostringstream out;
  for (const DrainStep& s : p->steps) {
    out << "\n    step " << s.vm << " " << static_cast<int>(s.action) << " " << s.target << " "
        << s.group_move << " " << s.compliant << " " << ReasonName(s.why) << " " << s.note;
  }
  for (const DrainBlocker& b : p->blockers) {
    out << "\n    blocker " << b.vm << " " << ReasonName(b.code) << " " << b.reason;
  }
  return out.str();
}

std::string GroupOf(const ClusterView& v, const std::string& group) {
  std::ostringstream out;
  const GroupMoveDecision d = PlanGroupMove(v, group);
  out << group << " feasible=" << d.feasible << " node=" << d.node << " code=" << ReasonName(d.code)
      << " reason=" << d.reason;
  for (const std::string& m : d.moves) out << " move " << m;
  for (const std::string& l : d.node_lines) out << "\n    " << l;
  const GroupStatus s = DescribeGroup(v, group);
  out << "\n  status compliant=" << s.compliant << " violations=" << s.violations;
  for (const GroupMemberStatus& m : s.members) {
    out << "\n    " << m.vm << " on " << m.node << " to " << m.migrating_to << " " << m.compliant
        << " " << m.violation;
  }
  return out.str();
}

std::string RebalanceOf(const RebalancePlan& p) {
  std::ostringstream out;
  for (const RebalanceMove& m : p.moves) {
    out << "\n    move " << m.vm << " " << m.from << ">" << m.to << " " << m.violation << " | "
        << m.note;
  }
  for (const StillViolating& s : p.still_violating) {
    out << "\n    still " << s.vm << " " << ReasonName(s.code) << " " << s.violation << " | "
        << s.reason;
  }
  return out.str();
}

// Sets `diff` to the first mismatch of a and b (labelled).
bool Differ(std::string& diff, const std::string& what, const std::string& a,
            const std::string& b) {
  if (a == b) return false;
  diff = what + " differs:\n  incremental: " + a + "\n  rebuilt:     " + b;
  return true;
}

}  // namespace

ViewComparison CompareViews(const ClusterView& a, const ClusterView& b) {
  ViewComparison c;
  const ClusterSnapshot sa = a.Snapshot();
  if (!(sa == b.Snapshot())) {
    c.difference = "the snapshots differ";
    return c;
  }
  std::string pa, pb;
  for (const std::string& p : a.Problems()) pa += p + "; ";
  for (const std::string& p : b.Problems()) pb += p + "; ";
  if (Differ(c.difference, "problems", pa, pb)) return c;
  for (size_t i = 0; i < a.node_ids().size(); ++i) {
    const NodeId na = a.node_ids()[i];
    const NodeId nb = b.node_ids()[i];
    if (Differ(c.difference, "usage", UsageOf(a, na), UsageOf(b, nb))) return c;
  }
  for (const Vm& vm : sa.vms) {
    auto target = [&](const ClusterView& v) {
      const NodeId t = v.usage().migrating_to[static_cast<size_t>(v.FindVm(vm.name))];
      return t == kNoId ? std::string("-") : v.node(t).name;
    };
    if (Differ(c.difference, "migration of " + vm.name, target(a), target(b))) return c;
    const TargetDecision da = ChooseTarget(a, {vm.name, ""});
    if (Differ(c.difference, "decision", DecisionOf(a, da),
               DecisionOf(b, ChooseTarget(b, {vm.name, ""})))) {
      return c;
    }
    // Without verdicts the engine skips scoring nodes that cannot win: same answer.
    PlacementOptions quiet;
    quiet.explain_nodes = false;
    const TargetDecision dq = ChooseTarget(a, {vm.name, ""}, quiet);
    if (Differ(c.difference, "decision without verdicts",
               da.node + " " + std::to_string(da.score.total) + " " + da.reason,
               dq.node + " " + std::to_string(dq.score.total) + " " + dq.reason)) {
      return c;
    }
    ++c.decisions;
    c.scheduled += da.scheduled ? 1 : 0;
    if (!sa.nodes.empty()) {
      const std::string requested = sa.nodes[vm.name.size() % sa.nodes.size()].name;
      if (Differ(c.difference, "decision for " + requested,
                 DecisionOf(a, ChooseTarget(a, {vm.name, requested})),
                 DecisionOf(b, ChooseTarget(b, {vm.name, requested})))) {
        return c;
      }
    }
  }
  for (size_t i = 0; i < sa.nodes.size(); ++i) {
    DrainOptions options;
    options.allow_group_moves = i % 2 == 0;
    const StatusOr<DrainPlan> plan = PlanDrain(a, sa.nodes[i].name, options);
    if (Differ(c.difference, "drain of " + sa.nodes[i].name, DrainOf(plan),
               DrainOf(PlanDrain(b, sa.nodes[i].name, options)))) {
      return c;
    }
    if (plan.ok()) c.drain_steps += static_cast<int>(plan->steps.size());
  }
  for (const ServerGroup& g : sa.groups) {
    if (Differ(c.difference, "group", GroupOf(a, g.name), GroupOf(b, g.name))) return c;
  }
  Differ(c.difference, "rebalance", RebalanceOf(PlanRebalance(a)), RebalanceOf(PlanRebalance(b)));
  return c;
}

}  // namespace ferry::placement::testing
