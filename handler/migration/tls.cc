#include "migration/tls.h"

#include <unistd.h>

namespace ferry::migration {

std::vector<std::string> QemuTlsFiles(TlsRole role) {
  if (role == TlsRole::kSource) return {"ca-cert.pem", "client-cert.pem", "client-key.pem"};
  return {"ca-cert.pem", "server-cert.pem", "server-key.pem"};
}

std::vector<std::string> MissingFiles(const std::string& dir,
                                      const std::vector<std::string>& files) {
  std::vector<std::string> missing;
  for (const auto& f : files) {
    const std::string path = dir + "/" + f;
    if (access(path.c_str(), R_OK) != 0) missing.push_back(f);
  }
  return missing;
}

Status CheckQemuTlsDir(const std::string& dir, TlsRole role) {
  const auto missing = MissingFiles(dir, QemuTlsFiles(role));
  if (missing.empty()) return OkStatus();
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return FailedPreconditionError(
      std::string("this node has no certificates for TLS migrations as the ") +
      (role == TlsRole::kSource ? "source" : "target") + ": missing in " + dir + ": " + list);
}

StatusOr<bool> ResolveTls(TlsSetting setting, const std::string& dir, TlsRole role) {
  switch (setting) {
    case TlsSetting::kOff:
      return false;
    case TlsSetting::kAuto:
      return CheckQemuTlsDir(dir, role).ok();
    case TlsSetting::kOn:
      if (Status st = CheckQemuTlsDir(dir, role); !st.ok()) {
        return Status(st.code(), "TLS migration refused: " + st.message());
      }
      return true;
  }
  return false;
}

}  // namespace ferry::migration
