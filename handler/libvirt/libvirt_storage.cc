#include "libvirt/libvirt_storage.h"

#include <libvirt/libvirt.h>

#include <cstdio>
#include <memory>

#include "libvirt/libvirt_error.h"
#include "xml/xml_util.h"

namespace ferry::libvirt {
namespace {

struct PoolFree {
  void operator()(virStoragePoolPtr p) const { virStoragePoolFree(p); }
};
struct VolFree {
  void operator()(virStorageVolPtr v) const { virStorageVolFree(v); }
};
using PoolPtr = std::unique_ptr<virStoragePool, PoolFree>;
using VolPtr = std::unique_ptr<virStorageVol, VolFree>;

std::string PoolName(const std::string& dir) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : dir) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "ferry-%012llx",
                static_cast<unsigned long long>(h & 0xffffffffffffULL));
  return buf;
}

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Status CheckPath(const std::string& path) {
  if (path.empty() || path[0] != '/') return InvalidError("'" + path + "' is not an absolute path");
  if (path.rfind("/dev/", 0) == 0) return InvalidError("block device " + path + " is not probed");
  if (path.back() == '/') return InvalidError("'" + path + "' names a directory");
  return OkStatus();
}

// The target directory of a pool, from its XML.
std::string PoolTarget(virStoragePoolPtr p) {
  char* xml = virStoragePoolGetXMLDesc(p, 0);
  if (xml == nullptr) return "";
  std::string text(xml);
  free(xml);  // NOLINT: libvirt allocates with malloc
  auto doc = xml::Parse(text, "pool XML");
  if (!doc.ok()) return "";
  return xml::Text(xml::Path(xmlDocGetRootElement(doc->get()), "target/path"));
}

// An active pool over `dir`, refreshed; created (transient) when none exists.
StatusOr<PoolPtr> PoolFor(LibvirtConnection& conn, virConnectPtr c, const std::string& dir) {
  PoolPtr pool;
  virStoragePoolPtr* pools = nullptr;
  const int n = virConnectListAllStoragePools(c, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
  if (n < 0) return conn.Failed("virConnectListAllStoragePools", c);
  for (int i = 0; i < n; ++i) {
    PoolPtr p(pools[i]);
    if (!pool && PoolTarget(p.get()) == dir) pool = std::move(p);
  }
  free(pools);  // NOLINT: libvirt allocates with malloc
  if (!pool) {
    const std::string xml = "<pool type='dir'><name>" + PoolName(dir) + "</name><target><path>" +
                            xml::Escape(dir) + "</path></target></pool>";
    pool.reset(virStoragePoolCreateXML(c, xml.c_str(), 0));
    if (!pool) return conn.Failed("virStoragePoolCreateXML(" + dir + ")", c);
  }
  if (virStoragePoolRefresh(pool.get(), 0) < 0)
    return conn.Failed("virStoragePoolRefresh(" + dir + ")", c);
  return pool;
}

}  // namespace

StatusOr<domain::FileInfo> LibvirtStorage::Stat(const std::string& path) {
  FERRY_RETURN_IF_ERROR(CheckPath(path));
  auto c = conn_.Get();
  if (!c.ok()) return c.status();
  const auto [dir, base] = SplitPath(path);
  std::lock_guard<std::mutex> l(mu_);
  auto pool = PoolFor(conn_, c->get(), dir);
  if (!pool.ok()) return pool.status();
  VolPtr vol(virStorageVolLookupByName(pool->get(), base.c_str()));
  if (!vol) {
    const LibvirtError e = CaptureLastError();
    if (MapErrorCode(e.code) == StatusCode::kNotFound) return domain::FileInfo{};
    return ToStatus(e, "virStorageVolLookupByName(" + path + ")");
  }
  virStorageVolInfo info{};
  if (virStorageVolGetInfo(vol.get(), &info) < 0)
    return conn_.Failed("virStorageVolGetInfo(" + path + ")", c->get());
  return domain::FileInfo{true, static_cast<uint64_t>(info.capacity)};
}

Status LibvirtStorage::Create(const std::string& path, domain::DiskImageFormat format,
                              uint64_t size_bytes) {
  FERRY_RETURN_IF_ERROR(CheckPath(path));
  auto c = conn_.Get();
  if (!c.ok()) return c.status();
  const auto [dir, base] = SplitPath(path);
  std::lock_guard<std::mutex> l(mu_);
  auto pool = PoolFor(conn_, c->get(), dir);
  if (!pool.ok()) return pool.status();
  const char* fmt = format == domain::DiskImageFormat::kQcow2 ? "qcow2" : "raw";
  const std::string xml =
      "<volume><name>" + xml::Escape(base) + "</name><capacity unit='bytes'>" +
      std::to_string(size_bytes) +
      "</capacity><allocation unit='bytes'>0</allocation><target><format type='" + fmt +
      "'/></target></volume>";
  VolPtr vol(virStorageVolCreateXML(pool->get(), xml.c_str(), 0));
  if (!vol) return conn_.Failed("virStorageVolCreateXML(" + path + ")", c->get());
  return OkStatus();
}

Status LibvirtStorage::Delete(const std::string& path) {
  FERRY_RETURN_IF_ERROR(CheckPath(path));
  auto c = conn_.Get();
  if (!c.ok()) return c.status();
  const auto [dir, base] = SplitPath(path);
  std::lock_guard<std::mutex> l(mu_);
  auto pool = PoolFor(conn_, c->get(), dir);
  if (!pool.ok()) return pool.status();
  VolPtr vol(virStorageVolLookupByName(pool->get(), base.c_str()));
  if (!vol) return LastErrorStatus("virStorageVolLookupByName(" + path + ")");
  if (virStorageVolDelete(vol.get(), 0) < 0)
    return conn_.Failed("virStorageVolDelete(" + path + ")", c->get());
  return OkStatus();
}

}  // namespace ferry::libvirt
