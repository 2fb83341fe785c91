// Decodes a Kubernetes JSON watch stream: a sequence of {"type": ..., "object": ...} frames.
// Pure: bytes in, events out, whatever the chunk boundaries (a frame may be split anywhere,
// including inside a string or an escape; several frames may share one chunk).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "kube/api_client.h"

namespace ferry::kube {

// Turns one decoded frame into a WatchEvent; kInvalid for an unknown type or missing object.
StatusOr<WatchEvent> ParseWatchFrame(const Json& frame);

class WatchDecoder {
 public:
  // Appends `chunk`; appends every event completed by it to `out`. After an error the
  // decoder is poisoned (the stream must be reopened) and returns the same error.
  Status Feed(std::string_view chunk, std::vector<WatchEvent>* out);
  // True while bytes of an incomplete frame are buffered.
  bool HasPartialFrame() const;

 private:
  std::string buf_;
  size_t scan_ = 0;        // next byte of buf_ to scan
  size_t frame_start_ = 0; // where the current frame began
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  Status error_;
};

}  // namespace ferry::kube
