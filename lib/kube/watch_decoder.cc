#include "kube/watch_decoder.h"

namespace ferry::kube {

const char* WatchEventTypeName(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::kAdded: return "ADDED";
    case WatchEvent::Type::kModified: return "MODIFIED";
    case WatchEvent::Type::kDeleted: return "DELETED";
    case WatchEvent::Type::kBookmark: return "BOOKMARK";
    case WatchEvent::Type::kError: return "ERROR";
  }
  return "UNKNOWN";
}

StatusOr<WatchEvent> ParseWatchFrame(const Json& frame) {
  if (!frame.is_object()) return InvalidError("watch frame is not a JSON object");
  auto type_it = frame.find("type");
  if (type_it == frame.end() || !type_it->is_string()) return InvalidError("watch frame has no \"type\"");
  auto obj_it = frame.find("object");
  if (obj_it == frame.end() || !obj_it->is_object()) return InvalidError("watch frame has no \"object\"");
  const std::string& type = type_it->get_ref<const std::string&>();
  WatchEvent ev;
  if (type == "ADDED") {
    ev.type = WatchEvent::Type::kAdded;
  } else if (type == "MODIFIED") {
    ev.type = WatchEvent::Type::kModified;
  } else if (type == "DELETED") {
    ev.type = WatchEvent::Type::kDeleted;
  } else if (type == "BOOKMARK") {
    ev.type = WatchEvent::Type::kBookmark;
  } else if (type == "ERROR") {
    ev.type = WatchEvent::Type::kError;
  } else {
    return InvalidError("watch frame has unknown type \"" + type + "\"");
  }
  ev.object = *obj_it;
  return ev;
}

Status WatchDecoder::Feed(std::string_view chunk, std::vector<WatchEvent>* out) {
  if (!error_.ok()) return error_;
  buf_.append(chunk);
  for (; scan_ < buf_.size(); ++scan_) {
    const char c = buf_[scan_];
    if (depth_ == 0) {
      // Between frames only whitespace may appear.
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (c != '{') {
        error_ = InvalidError(std::string("watch stream: unexpected byte '") + c + "' between frames");
        return error_;
      }
      frame_start_ = scan_;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        const std::string_view text(buf_.data() + frame_start_, scan_ + 1 - frame_start_);
        Json frame = Json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (frame.is_discarded()) {
          error_ = InvalidError("watch stream: a frame is not valid JSON");
          return error_;
        }
        auto ev = ParseWatchFrame(frame);
        if (!ev.ok()) {
          error_ = ev.status();
          return error_;
        }
        out->push_back(std::move(*ev));
      }
    }
  }
  // Drop consumed bytes so the buffer holds at most one partial frame.
  const size_t keep_from = depth_ == 0 ? scan_ : frame_start_;
  if (keep_from > 0) {
    buf_.erase(0, keep_from);
    scan_ -= keep_from;
    frame_start_ = 0;  // a partial frame, if any, now starts the buffer
  }
  return OkStatus();
}

bool WatchDecoder::HasPartialFrame() const { return depth_ > 0; }

}  // namespace ferry::kube
