// Structured logging for Ferry's binaries and libraries (Kubernetes' klog
// conventions).
//
// Every line names the object it is about, then a message, then key/value
// pairs:
//
//   log::Info(log::Obj("vmm", "default/web-1"), "Phase changed").With("phase",
//   "Running"); log::V(2).Info(log::Obj("informer", "virtualmachines"),
//   "Relisting").With("reason", why); log::Error(log::Obj("lease", ns, name),
//   "Cannot release the lease").Err(status);
//
// Text (default), one line each, klog's header (severity, date, time, thread,
// file:line):
//   I1129 12:31:05.123456   12345 manager.cc:158] "Acquired the lease"
//   lease="ferry-system/ferry-operator"
// JSON (--log-format json), Kubernetes' JSON log schema (ts in seconds, KObj
// for objects):
//   {"ts":1764419465.123456,"caller":"manager.cc:158","level":"info","v":0,
//    "msg":"Acquired the
//    lease","lease":{"name":"ferry-operator","namespace":"ferry-system"}}
//
// spdlog (Debian's libspdlog) writes the lines: its pattern formatter renders
// the header and its thread-safe sink keeps concurrent lines whole. Verbosity
// (-v N) works as klog's: info lines of level <= N are written; warnings and
// errors always are.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace ferry::log {

enum class Format { kText, kJson };
enum class Severity { kInfo, kWarning, kError };

struct Options {
  Format format = Format::kText;
  int verbosity = 0;  // klog's -v
};

// Parses "text" / "json".
StatusOr<Format> ParseFormat(std::string_view s);
const char *FormatName(Format f);

// The object a line is about: its kind as the line's first key ("vm", "vmm",
// "node", "hypervisor", "lease", "controller", "informer", "process", ...) and
// its name, namespaced or not. Written as kind="ns/name" in text,
// kind:{"name","namespace"} in JSON (klog.KObj).
struct Ref {
  std::string kind;
  std::string ns;
  std::string name;
  // "ns/name", or "name" for a cluster-scoped object.
  std::string Key() const { return ns.empty() ? name : ns + "/" + name; }
};
// `key` is an informer key: "ns/name" or "name".
Ref Obj(std::string kind, std::string_view key);
Ref Obj(std::string kind, std::string ns, std::string name);

// A value of a key/value pair.
using Value = std::variant<std::string, int64_t, double, bool, Ref>;
using Field = std::pair<std::string, Value>;

// What a line holds before it is rendered.
struct Record {
  Severity severity = Severity::kInfo;
  int verbosity = 0;
  Ref about;
  std::string message;
  std::vector<Field> fields;
};

// The part of a line after the header: `"message" kind="ns/name" k=v ...`
// (text) or
// `"v":0,"msg":...,...` (JSON members, without braces). Pure; exposed for
// tests.
std::string RenderText(const Record &r);
std::string RenderJson(const Record &r);

// One log line under construction; written when it goes out of scope.
class Line {
 public:
  Line(bool enabled, Severity severity, int verbosity, Ref about, std::string_view message,
       std::source_location where);
  Line(Line &&other) noexcept;
  Line &operator=(Line &&) = delete;
  Line(const Line &) = delete;
  Line &operator=(const Line &) = delete;
  ~Line();

  Line &With(std::string_view key, std::string_view value);
  Line &With(std::string_view key, const char *value) { return With(key, std::string_view(value)); }
  Line &With(std::string_view key, const std::string &value) {
    return With(key, std::string_view(value));
  }
  Line &With(std::string_view key, bool value);
  Line &With(std::string_view key, double value);
  Line &With(std::string_view key, const Ref &object);
  template <typename T>
  requires std::is_integral_v<T> &&
      (!std::is_same_v<T, bool>)Line &With(std::string_view key, T value) {
    return WithInt(key, static_cast<int64_t>(value));
  }
  // klog's ErrorS(err, ...): the error as "err".
  Line &Err(const Status &status);

 private:
  Line &WithInt(std::string_view key, int64_t value);

  bool enabled_;
  Record record_;
  std::source_location where_;
};

Line Info(Ref about, std::string_view message,
          std::source_location where = std::source_location::current());
Line Warning(Ref about, std::string_view message,
             std::source_location where = std::source_location::current());
Line Error(Ref about, std::string_view message,
           std::source_location where = std::source_location::current());

// klog.V(level): Info lines written only at -v >= level.
class Verbose {
 public:
  explicit Verbose(int level);
  bool enabled() const { return enabled_; }
  Line Info(Ref about, std::string_view message,
            std::source_location where = std::source_location::current()) const;

 private:
  int level_;
  bool enabled_;
};
inline Verbose V(int level) { return Verbose(level); }

// Sets format and verbosity of every line from now on (call once in main, after
// the flags).
void Configure(const Options &options);
Options Current();
// Lines go to `out` instead of stderr until called again with nullptr (tests).
void SetOutputForTesting(std::ostream *out);

}  // namespace ferry::log
