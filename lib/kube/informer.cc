#include "kube/informer.h"

#include <cstdio>

#include "controller/backoff.h"
#include "log/log.h"

namespace ferry::kube {

void InformerOptions::DropManagedFields(Json& obj) {
  auto m = obj.find("metadata");
  if (m != obj.end() && m->is_object()) m->erase("managedFields");
}

const char* DeleteReasonName(DeleteReason r) {
  switch (r) {
    case DeleteReason::kDeleted: return "Deleted";
    case DeleteReason::kNoLongerMatches: return "NoLongerMatches";
    case DeleteReason::kUnknown: return "Unknown";
  }
  return "Unknown";
}

Informer::Informer(ApiClient& api, ResourceType rt, InformerOptions options, Clock& clock)
    : api_(api), rt_(std::move(rt)), options_(std::move(options)), clock_(clock) {
  auto sel = LabelSelector::Parse(options_.label_selector);
  if (sel.ok()) {
    selector_ = std::move(*sel);
  } else {
    // The API server rejects it too; every list fails and says why.
    log::Error(log::Obj("informer", rt_.resource), "Invalid label selector")
        .With("selector", options_.label_selector)
        .Err(sel.status());
  }
}

int Informer::WatchTimeoutSeconds() {
  const int base = options_.watch_timeout_seconds;
  if (base <= 0) return 0;
  std::lock_guard<std::mutex> l(mu_);
  return base + std::uniform_int_distribution<int>(0, base - 1)(rng_);
}

std::chrono::nanoseconds Informer::RetryDelay(const Status& st, controller::Backoff& backoff) {
  std::chrono::nanoseconds d = backoff.Next();
  const bool throttled = st.code() == StatusCode::kTooManyRequests || st.retry_after().has_value();
  if (throttled) {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.throttled;
  }
  if (st.retry_after() && *st.retry_after() > d) d = *st.retry_after();
  return d;
}

DeleteReason Informer::WhyMissing(const Json& last) {
  if (options_.label_selector.empty() && options_.field_selector.empty()) {
    return DeleteReason::kDeleted;  // the list was of everything: missing means deleted
  }
  // One read of the object (only for selected informers, only when one leaves the cache).
  auto [ns, name] = SplitKey(ObjectKey(last));
  auto now = api_.Get(rt_, ns, name);
  if (!now.ok()) {
    return now.status().code() == StatusCode::kNotFound ? DeleteReason::kDeleted : DeleteReason::kUnknown;
  }
  auto uid = [](const Json& o) {
    auto m = o.find("metadata");
    return m != o.end() && m->is_object() ? m->value("uid", "") : std::string();
  };
  if (uid(*now) != uid(last)) return DeleteReason::kDeleted;  // deleted, and another made since
  if (selector_ && !selector_->Matches(*now)) return DeleteReason::kNoLongerMatches;
  return DeleteReason::kUnknown;  // still matches (a field selector, or it came back)
}

void Informer::AddEventHandler(EventHandler handler) { handlers_.push_back(std::move(handler)); }

std::string Informer::LastResourceVersion() const {
  std::lock_guard<std::mutex> l(mu_);
  return resource_version_;
}

InformerStats Informer::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

bool Informer::WaitForSync(std::stop_token stop, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, stop, timeout, [this] { return synced_.load(); });
  return synced_.load();
}

void Informer::SleepFor(std::chrono::nanoseconds d, std::stop_token stop) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, stop, d, [] { return false; });
}

void Informer::SetResourceVersion(const Json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return;
  std::string rv = m->value("resourceVersion", "");
  if (rv.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  resource_version_ = std::move(rv);
}

Status Informer::ListAndReplace(std::stop_token stop) {
  // Each page's objects are packed into the replacement as they arrive, so a relist holds at
  // most one page of decoded objects.
  Store::Replacement next = store_.BeginReplace();
  ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  std::string list_rv;
  for (;;) {
    if (stop.stop_requested()) return CancelledError("informer stopped");
    auto page = api_.List(rt_, options_.ns, lo);
    if (!page.ok()) {
      if (page.status().code() == StatusCode::kGone && !lo.continue_token.empty()) {
        // The continue token expired between pages: start the list over.
        next = store_.BeginReplace();
        lo.continue_token.clear();
        continue;
      }
      return page.status();
    }
    for (auto& item : page->items) {
      if (options_.transform) options_.transform(item);
      next.Add(item);
    }
    list_rv = page->resource_version;
    if (page->continue_token.empty()) break;
    lo.continue_token = page->continue_token;
  }

  const std::vector<std::string> fresh = next.keys();
  auto old = store_.Replace(std::move(next));
  {
    std::lock_guard<std::mutex> l(mu_);
    resource_version_ = list_rv;
    ++stats_.lists;
  }
  // Tell the handlers, decoding one object (and its previous version) at a time. Only this
  // thread writes the store, so Get returns what the list stored.
  if (!handlers_.empty()) {
    for (const auto& key : fresh) {
      ObjectPtr obj = store_.Get(key);
      auto it = old.find(key);
      ObjectPtr prev = it == old.end() ? nullptr : it->second.Unpack();
      if (it != old.end()) old.erase(it);
      Notify(prev, obj);
    }
    for (const auto& [key, packed] : old) {  // gone while we were away
      ObjectPtr last = packed.Unpack();
      Notify(last, nullptr, WhyMissing(*last));
    }
  }
  if (!synced_.exchange(true)) {
    std::lock_guard<std::mutex> l(mu_);
    cv_.notify_all();
  }
  return OkStatus();
}

bool Informer::Apply(const WatchEvent& ev, Status* watch_error) {
  switch (ev.type) {
    case WatchEvent::Type::kBookmark: {
      SetResourceVersion(ev.object);
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.bookmarks;
      return true;
    }
    case WatchEvent::Type::kError: {
      const int code = ev.object.value("code", 0);
      const std::string msg = ev.object.value("message", "watch error event");
      *watch_error = Status(code == 410 ? StatusCode::kGone : StatusCode::kUnavailable, msg).set_http_status(code);
      return false;
    }
    case WatchEvent::Type::kAdded:
    case WatchEvent::Type::kModified:
    case WatchEvent::Type::kDeleted:
      break;
  }
  Json obj = ev.object;
  if (options_.transform) options_.transform(obj);
  auto ptr = std::make_shared<const Json>(std::move(obj));
  SetResourceVersion(*ptr);
  {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.events;
  }
  if (ev.type == WatchEvent::Type::kDeleted) {
    store_.Remove(ObjectKey(*ptr));
    // A selected watch reports an object that left the selector (relabelled) as DELETED with
    // its previous content, exactly like a deletion: WhyMissing reads it back to tell.
    Notify(ptr, nullptr, WhyMissing(*ptr));
    return true;
  }
  Notify(store_.Upsert(ptr), ptr);
  return true;
}

void Informer::Notify(const ObjectPtr& prev, const ObjectPtr& obj, DeleteReason why) {
  for (const auto& h : handlers_) {
    // A handler's bug must not cost the other handlers the event, nor the informer its
    // thread (an exception escaping Run would end the process).
    const char* what = nullptr;
    std::string detail;
    try {
      if (!obj) {
        if (h.on_delete) h.on_delete(prev, why);
      } else if (!prev) {
        if (h.on_add) h.on_add(obj);
      } else if (h.on_update) {
        h.on_update(prev, obj);
      }
    } catch (const std::exception& e) {
      what = "exception";
      detail = e.what();
    } catch (...) {
      what = "non-standard exception";
    }
    if (what != nullptr) {
      {
        std::lock_guard<std::mutex> l(mu_);
        ++stats_.handler_errors;
      }
      log::Error(log::Obj(rt_.resource, ObjectKey(obj ? *obj : *prev)), "Event handler threw")
          .With("informer", rt_.resource)
          .With("what", what)
          .With("detail", detail);
    }
  }
}

void Informer::Run(std::stop_token stop) {
  controller::Backoff backoff(options_.backoff_initial, options_.backoff_max, 2.0, 0.5, clock_,
                              std::hash<std::string>{}(rt_.resource));
  bool need_list = true;
  while (!stop.stop_requested()) {
    if (need_list) {
      Status st = ListAndReplace(stop);
      if (!st.ok()) {
        if (st.code() == StatusCode::kCancelled) break;
        log::Warning(log::Obj("informer", rt_.resource), "List failed; retrying")
            .With("namespace", options_.ns)
            .Err(st);
        SleepFor(RetryDelay(st, backoff), stop);
        continue;
      }
      need_list = false;
    }
    WatchOptions wo;
    wo.resource_version = LastResourceVersion();
    wo.label_selector = options_.label_selector;
    wo.field_selector = options_.field_selector;
    wo.allow_bookmarks = true;
    wo.timeout_seconds = WatchTimeoutSeconds();
    Status event_error;
    uint64_t applied = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.watches;
    }
    Status st = api_.Watch(
        rt_, options_.ns, wo,
        [&](const WatchEvent& ev) {
          ++applied;
          return Apply(ev, &event_error);
        },
        stop);
    if (stop.stop_requested()) break;
    if (!event_error.ok()) st = event_error;
    if (st.ok()) {
      // The server ended the watch (timeoutSeconds): continue from the last version.
      if (applied > 0) backoff.Reset();
      continue;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.watch_errors;
      if (st.code() == StatusCode::kGone) ++stats_.relists_on_gone;
    }
    if (st.code() == StatusCode::kGone) {
      // Our version was compacted away: only a fresh list can resynchronise.
      log::V(1)
          .Info(log::Obj("informer", rt_.resource), "Watch expired; relisting")
          .With("resourceVersion", wo.resource_version);
      need_list = true;
      continue;
    }
    log::V(1).Info(log::Obj("informer", rt_.resource), "Watch failed; retrying").Err(st);
    SleepFor(RetryDelay(st, backoff), stop);
  }
}

}  // namespace ferry::kube
