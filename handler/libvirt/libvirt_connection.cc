#include "libvirt/libvirt_connection.h"

#include <libvirt/virterror.h>

#include <thread>

#include "libvirt/libvirt_error.h"

namespace ferry::libvirt {
namespace {

// Keepalive: a dead daemon or link is noticed within interval × (count + 1) seconds.
constexpr int kKeepAliveIntervalS = 3;
constexpr unsigned kKeepAliveCount = 3;

void QuietErrors(void*, virErrorPtr) {}

}  // namespace

void EnsureEventLoop() {
  static std::once_flag once;
  std::call_once(once, [] {
    EnsureLibvirtInitialized();
    virSetErrorFunc(nullptr, QuietErrors);
    if (virEventRegisterDefaultImpl() < 0) return;
    std::thread([] {
      while (virEventRunDefaultImpl() >= 0) {
      }
    }).detach();
  });
}

LibvirtConnection::LibvirtConnection(std::string uri, std::function<void(virConnectPtr)> on_open)
    : uri_(std::move(uri)), on_open_(std::move(on_open)) {}

LibvirtConnection::~LibvirtConnection() {
  std::lock_guard<std::mutex> l(mu_);
  if (conn_) virConnectUnregisterCloseCallback(conn_.get(), &LibvirtConnection::OnClose);
}

void LibvirtConnection::OnClose(virConnectPtr conn, int, void* opaque) {
  auto* self = static_cast<LibvirtConnection*>(opaque);
  // The event loop thread: only flag it (no lock), Get() reopens. A connection already
  // replaced does not mark its successor broken.
  if (conn == self->current_.load()) self->broken_ = true;
}

namespace {
ConnectPtr Ref(virConnectPtr c) {
  virConnectRef(c);
  return ConnectPtr(c);
}
}  // namespace

bool LibvirtConnection::Alive() {
  std::lock_guard<std::mutex> l(mu_);
  return conn_ && !broken_ && virConnectIsAlive(conn_.get()) == 1;
}

StatusOr<ConnectPtr> LibvirtConnection::Get() {
  EnsureEventLoop();
  std::lock_guard<std::mutex> l(mu_);
  if (conn_ && !broken_ && virConnectIsAlive(conn_.get()) == 1) return Ref(conn_.get());
  if (conn_) {
    virConnectUnregisterCloseCallback(conn_.get(), &LibvirtConnection::OnClose);
    current_ = nullptr;
    conn_.reset();  // drops our reference; callers still holding theirs keep it open
  }
  virConnectPtr c = virConnectOpen(uri_.c_str());
  if (c == nullptr) return LastErrorStatus("virConnectOpen(" + uri_ + ")");
  conn_.reset(c);
  current_ = c;
  broken_ = false;
  if (ever_opened_) ++reconnects_;
  ever_opened_ = true;
  (void)virConnectSetKeepAlive(c, kKeepAliveIntervalS, kKeepAliveCount);
  (void)virConnectRegisterCloseCallback(c, &LibvirtConnection::OnClose, this, nullptr);
  if (on_open_) on_open_(c);
  return Ref(c);
}

StatusOr<DomainPtr> LibvirtConnection::Domain(const std::string& name) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto c = Get();
    if (!c.ok()) return c.status();
    virDomainPtr d = virDomainLookupByName(c->get(), name.c_str());
    if (d != nullptr) return DomainPtr(d);
    Status st = Failed("virDomainLookupByName(" + name + ")", c->get());
    if (st.code() != StatusCode::kUnavailable) return st;  // retry once after a reconnect
  }
  return UnavailableError("libvirtd at " + uri_ + " unreachable after reconnecting");
}

Status LibvirtConnection::Failed(const std::string& call, virDomainPtr domain) {
  LibvirtError e = CaptureLastError();
  return FailedWith(std::move(e), call, domain != nullptr ? virDomainGetConnect(domain) : nullptr);
}

Status LibvirtConnection::Failed(const std::string& call, virConnectPtr used) {
  return FailedWith(CaptureLastError(), call, used);
}

Status LibvirtConnection::FailedWith(LibvirtError e, const std::string& call, virConnectPtr used) {
  std::lock_guard<std::mutex> l(mu_);
  // The error may be relayed from another daemon (peer-to-peer): only our own dead
  // connection counts as connection loss. `used` replaced meanwhile = it was lost.
  const bool current_dead = !conn_ || broken_ || virConnectIsAlive(conn_.get()) != 1;
  const bool replaced = used != nullptr && conn_ && used != conn_.get();
  if (current_dead || replaced) {
    if (current_dead) broken_ = true;
    Status st = ToStatus(e, call);
    return UnavailableError(st.message() + " [connection to " + uri_ + " lost; will reconnect]");
  }
  if (IsConnectionLost(
          e)) {  // relayed by our daemon: its link to the peer (peer-to-peer migration)
    e.code = VIR_ERR_OPERATION_FAILED;
    e.message =
        "the source libvirtd lost its connection to the destination libvirtd (daemon down or link "
        "broken): " +
        e.message;
  }
  return ToStatus(e, call);
}

}  // namespace ferry::libvirt
