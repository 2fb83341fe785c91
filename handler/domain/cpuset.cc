#include "domain/cpuset.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace ferry::domain {
namespace {

StatusOr<int> ParseCpu(const std::string& s, const std::string& text) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 5) {
    return InvalidError("CPU set '" + text + "': '" + s + "' is not a CPU number");
  }
  return std::stoi(s);
}

}  // namespace

StatusOr<std::vector<int>> ParseCpuSet(const std::string& text) {
  std::set<int> cpus;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
    if (item.empty()) continue;
    const bool exclude = item[0] == '^';
    if (exclude) item.erase(0, 1);
    const auto dash = item.find('-');
    auto lo = ParseCpu(item.substr(0, dash), text);
    if (!lo.ok()) return lo.status();
    int hi = *lo;
    if (dash != std::string::npos) {
      auto h = ParseCpu(item.substr(dash + 1), text);
      if (!h.ok()) return h.status();
      hi = *h;
      if (hi < *lo) return InvalidError("CPU set '" + text + "': range " + item + " goes down");
    }
    for (int c = *lo; c <= hi; ++c) {
      if (exclude) {
        cpus.erase(c);
      } else {
        cpus.insert(c);
      }
    }
  }
  return std::vector<int>(cpus.begin(), cpus.end());
}

std::string FormatCpuSet(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace ferry::domain
