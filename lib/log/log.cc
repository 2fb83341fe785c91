#include "log/log.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

namespace ferry::log {
namespace {

// klog's header: Lmmdd hh:mm:ss.uuuuuu threadid file:line] (local time, as
// klog).
constexpr const char *kTextPattern = "%L%m%d %H:%M:%S.%f %7t %s:%#] %v";
// Kubernetes' JSON schema: ts (seconds since the epoch), caller, then the
// record's members.
constexpr const char *kJsonPattern = R"({"ts":%E.%f,"caller":"%s:%#","level":"%l",%v})";

struct State {
  std::mutex mu;  // guards logger replacement; spdlog's sink keeps lines whole
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<int> verbosity{0};
  std::atomic<Format> format{Format::kText};
  std::ostream *out = nullptr;  // tests; nullptr = stderr
};

State &GlobalState() {
  static State *s = new State();  // never destroyed: lines may be written during exit
  return *s;
}

std::shared_ptr<spdlog::logger> MakeLogger(Format format, std::ostream *out) {
  spdlog::sink_ptr sink;
  if (out != nullptr) {
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out, /*force_flush=*/true);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>("ferry", std::move(sink));
  logger->set_level(spdlog::level::trace);  // verbosity is decided before a line is built
  logger->flush_on(spdlog::level::trace);
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      format == Format::kJson ? kJsonPattern : kTextPattern,
      format == Format::kJson ? spdlog::pattern_time_type::utc : spdlog::pattern_time_type::local,
      "\n"));
  return logger;
}

std::shared_ptr<spdlog::logger> Logger() {
  State &s = GlobalState();
  std::lock_guard<std::mutex> l(s.mu);
  if (!s.logger) s.logger = MakeLogger(s.format.load(), s.out);
  return s.logger;
}

// ---- text: klog's quoting (strconv.Quote-like), one physical line per record
void QuoteInto(std::string &out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string DoubleText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", d);
  return buf;
}

void TextValueInto(std::string &out, const Value &v) {
  if (const auto *s = std::get_if<std::string>(&v)) {
    QuoteInto(out, *s);
  } else if (const auto *i = std::get_if<int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto *d = std::get_if<double>(&v)) {
    out += DoubleText(*d);
  } else if (const auto *b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  } else if (const auto *r = std::get_if<Ref>(&v)) {
    QuoteInto(out, r->Key());
  }
}

// Keys are identifiers by convention; anything else would break key=value
// parsing.
std::string SafeKey(std::string_view k) {
  std::string out;
  for (char c : k) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "_" : out;
}

nlohmann::json RefJson(const Ref &r) {
  nlohmann::json j = {{"name", r.name}};
  if (!r.ns.empty()) j["namespace"] = r.ns;
  return j;
}

nlohmann::json JsonValue(const Value &v) {
  if (const auto *s = std::get_if<std::string>(&v)) return *s;
  if (const auto *i = std::get_if<int64_t>(&v)) return *i;
  if (const auto *d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) return *d;
    return DoubleText(*d);  // JSON has no NaN/Inf
  }
  if (const auto *b = std::get_if<bool>(&v)) return *b;
  return RefJson(std::get<Ref>(v));
}

void JsonMemberInto(std::string &out, std::string_view key, const nlohmann::json &value) {
  out.push_back(',');
  out += nlohmann::json(std::string(key))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.push_back(':');
  out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

spdlog::level::level_enum Level(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return spdlog::level::info;
    case Severity::kWarning:
      return spdlog::level::warn;
    case Severity::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

StatusOr<Format> ParseFormat(std::string_view s) {
  if (s == "text") return Format::kText;
  if (s == "json") return Format::kJson;
  return InvalidError("log format: text or json, got '" + std::string(s) + "'");
}

const char *FormatName(Format f) { return f == Format::kJson ? "json" : "text"; }

Ref Obj(std::string kind, std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return Ref{std::move(kind), "", std::string(key)};
  return Ref{std::move(kind), std::string(key.substr(0, slash)),
             std::string(key.substr(slash + 1))};
}

Ref Obj(std::string kind, std::string ns, std::string name) {
  return Ref{std::move(kind), std::move(ns), std::move(name)};
}

std::string RenderText(const Record &r) {
  std::string out;
  QuoteInto(out, r.message);
  out.push_back(' ');
  out += SafeKey(r.about.kind);
  out.push_back('=');
  QuoteInto(out, r.about.Key());
  for (const auto &[k, v] : r.fields) {
    out.push_back(' ');
    out += SafeKey(k);
    out.push_back('=');
    TextValueInto(out, v);
  }
  return out;
}

std::string RenderJson(const Record &r) {
  std::string out = "\"v\":" + std::to_string(r.verbosity);
  JsonMemberInto(out, "msg", r.message);
  JsonMemberInto(out, r.about.kind, RefJson(r.about));
  for (const auto &[k, v] : r.fields) JsonMemberInto(out, k, JsonValue(v));
  return out;
}

Line::Line(bool enabled, Severity severity, int verbosity, Ref about, std::string_view message,
           std::source_location where)
    : enabled_(enabled), where_(where) {
  if (!enabled_) return;
  record_.severity = severity;
  record_.verbosity = verbosity;
  record_.about = std::move(about);
  record_.message = std::string(message);
}

Line::Line(Line &&other) noexcept
    : enabled_(other.enabled_), record_(std::move(other.record_)), where_(other.where_) {
  other.enabled_ = false;
}

Line::~Line() {
  if (!enabled_) return;
  try {
    const bool json = GlobalState().format.load() == Format::kJson;
    const std::string payload = json ? RenderJson(record_) : RenderText(record_);
    Logger()->log(spdlog::source_loc{where_.file_name(), static_cast<int>(where_.line()),
                                     where_.function_name()},
                  Level(record_.severity), spdlog::string_view_t(payload.data(), payload.size()));
  } catch (...) {
    // A log line never ends the process.
  }
}

Line &Line::With(std::string_view key, std::string_view value) {
  if (enabled_) record_.fields.emplace_back(std::string(key), std::string(value));
  return *this;
}

Line &Line::With(std::string_view key, bool value) {
  if (enabled_) record_.fields.emplace_back(std::string(key), value);
  return *this;
}

Line &Line::With(std::string_view key, double value) {
  if (enabled_) record_.fields.emplace_back(std::string(key), value);
  return *this;
}

Line &Line::With(std::string_view key, const Ref &object) {
  if (enabled_) record_.fields.emplace_back(std::string(key), object);
  return *this;
}

Line &Line::WithInt(std::string_view key, int64_t value) {
  if (enabled_) record_.fields.emplace_back(std::string(key), value);
  return *this;
}

Line &Line::Err(const Status &status) {
  if (enabled_) record_.fields.emplace_back("err", status.ToString());
  return *this;
}

Line Info(Ref about, std::string_view message, std::source_location where) {
  return Line(true, Severity::kInfo, 0, std::move(about), message, where);
}

Line Warning(Ref about, std::string_view message, std::source_location where) {
  return Line(true, Severity::kWarning, 0, std::move(about), message, where);
}

Line Error(Ref about, std::string_view message, std::source_location where) {
  return Line(true, Severity::kError, 0, std::move(about), message, where);
}

Verbose::Verbose(int level)
    : level_(level), enabled_(level <= GlobalState().verbosity.load(std::memory_order_relaxed)) {}

Line Verbose::Info(Ref about, std::string_view message, std::source_location where) const {
  return Line(enabled_, Severity::kInfo, level_, std::move(about), message, where);
}

void Configure(const Options &options) {
  State &s = GlobalState();
  std::lock_guard<std::mutex> l(s.mu);
  s.verbosity = options.verbosity;
  s.format = options.format;
  s.logger = MakeLogger(options.format, s.out);
}

Options Current() {
  State &s = GlobalState();
  return Options{s.format.load(), s.verbosity.load()};
}

void SetOutputForTesting(std::ostream *out) {
  State &s = GlobalState();
  std::lock_guard<std::mutex> l(s.mu);
  s.out = out;
  s.logger = MakeLogger(s.format.load(), out);
}

}  // namespace ferry::log
