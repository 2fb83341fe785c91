// The watch-stream decoder under arbitrary chunking: the same bytes cut anywhere give the same
// events and the same verdict as when fed whole. The first two bytes choose the cuts (a seed
// for chunk lengths 1..64); the rest is the stream.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "kube/watch_decoder.h"

namespace {

using ferry::kube::WatchDecoder;
using ferry::kube::WatchEvent;

struct Outcome {
  std::vector<WatchEvent> events;
  bool ok = true;
  std::string error;
  bool partial = false;
};

template <typename NextLen>
Outcome Decode(std::string_view stream, NextLen next_len) {
  Outcome o;
  WatchDecoder d;
  size_t at = 0;
  while (at < stream.size() && o.ok) {
    size_t n = std::min(next_len(), stream.size() - at);
    ferry::Status st = d.Feed(stream.substr(at, n), &o.events);
    at += n;
    if (!st.ok()) {
      o.ok = false;
      o.error = st.message();
      // Poisoned: the next feed must give the same error and no event.
      size_t before = o.events.size();
      ferry::Status again = d.Feed("{}", &o.events);
      FUZZ_CHECK(!again.ok() && again.message() == st.message(), "a poisoned decoder recovered");
      FUZZ_CHECK(o.events.size() == before, "a poisoned decoder emitted an event");
    }
  }
  o.partial = d.HasPartialFrame();
  return o;
}

bool SameEvents(const std::vector<WatchEvent>& a, const std::vector<WatchEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].object != b[i].object) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint32_t state = (uint32_t{data[0]} << 8 | data[1]) * 2654435761u + 1;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  Outcome whole = Decode(stream, [&] { return stream.size(); });
  Outcome cut = Decode(stream, [&] {
    state = state * 1103515245u + 12345u;
    return size_t{1} + (state >> 16) % 64;
  });
  FUZZ_CHECK(whole.ok == cut.ok, "the verdict depends on the chunking: " + whole.error + cut.error);
  FUZZ_CHECK(SameEvents(whole.events, cut.events), "the events depend on the chunking");
  if (whole.ok) FUZZ_CHECK(whole.partial == cut.partial, "HasPartialFrame depends on the chunking");
  if (stream.size() <= 512) {
    Outcome bytewise = Decode(stream, [] { return size_t{1}; });
    FUZZ_CHECK(whole.ok == bytewise.ok, "byte-by-byte feeding changes the verdict");
    FUZZ_CHECK(SameEvents(whole.events, bytewise.events),
               "byte-by-byte feeding changes the events");
  }
  return 0;
}
