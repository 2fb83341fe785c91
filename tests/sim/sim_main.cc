// ferry-sim: runs the deterministic simulation (docs/simulation.md) for many seeds.
//   ferry-sim --budget 90               seeds from 1 on, as many as fit in 90 s of real time
//   ferry-sim --seeds 1000 --first 5000 seeds 5000..5999
//   ferry-sim --seed 42 --trace         one seed, every step printed (any seed replays exactly)
// Each seed: `--steps` steps of chaos (faults and user actions drawn from the seed), then the
// faults end and 20 simulated minutes pass, then the at-rest rules are checked. A violation
// prints the seed, the rule and the last steps that led to it; the exit status is 1.
// The last line is "ferry-sim: N passed, M failed".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "log/log.h"
#include "world.h"

int main(int argc, char** argv) {
  using namespace ferry::sim;
  CLI::App app{"ferry-sim: the deterministic simulation of Ferry's operator and handlers"};
  uint64_t first = 1, seeds = 0, seed = 0;
  double budget = 0;
  uint64_t steps = 3000;
  bool trace = false;
  app.add_option("--first", first, "first seed");
  app.add_option("--seeds", seeds, "number of seeds (0: until the budget is used)");
  app.add_option("--seed", seed, "run this one seed");
  app.add_option("--budget", budget, "seconds of real time to spend (with --seeds 0)");
  app.add_option("--steps", steps, "chaos steps per seed before settling");
  app.add_flag("--trace", trace, "print every step of the run");
  CLI11_PARSE(app, argc, argv);
  // The processes' own log lines are not the simulation's output (the trace is).
  static std::ostream discard(nullptr);
  ferry::log::SetOutputForTesting(&discard);
  if (seed != 0) {
    first = seed;
    seeds = 1;
  }
  if (seeds == 0 && budget <= 0) budget = 90;

  const auto t0 = std::chrono::steady_clock::now();
  auto spent = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  uint64_t passed = 0, failed = 0, total_steps = 0;
  double sim_seconds = 0;
  for (uint64_t s = first; seeds == 0 ? spent() < budget : s < first + seeds; ++s) {
    WorldOptions o;
    o.seed = s;
    o.full_trace = trace;
    World w(o);
    bool ok = true;
    for (uint64_t i = 0; i < steps && ok; ++i) ok = w.Step();
    if (ok) ok = w.Settle();
    total_steps += w.steps();
    sim_seconds += std::chrono::duration<double>(w.elapsed()).count();
    if (trace || !ok) {
      for (const std::string& line : w.Trace()) std::printf("  %s\n", line.c_str());
    }
    if (ok) {
      ++passed;
      continue;
    }
    ++failed;
    for (const std::string& line : w.DumpState()) std::printf("  state: %s\n", line.c_str());
    std::printf("ferry-sim: seed %llu FAILED: %s: %s (replay: ferry-sim --seed %llu --trace)\n",
                static_cast<unsigned long long>(s), w.violation()->rule.c_str(),
                w.violation()->message.c_str(), static_cast<unsigned long long>(s));
  }
  std::printf("ferry-sim: seeds %llu..%llu, %llu steps, %.1f simulated hours, %.1f s\n",
              static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + passed + failed - 1),
              static_cast<unsigned long long>(total_steps), sim_seconds / 3600, spent());
  std::printf("ferry-sim: %llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}
