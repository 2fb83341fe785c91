#include "migration/tls.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

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

std::string ExplainTlsFailure(const std::string& libvirt_message) {
  std::string m = libvirt_message;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* key : {"credentials", "certificate", "x509", "tls", "handshake"}) {
    if (m.find(key) != std::string::npos) {
      return "TLS migration refused: a node's migration certificates are missing or not valid "
             "(every node needs the cluster CA's ca-cert.pem and its own client and server "
             "certificates in QEMU's migrate_tls_x509_cert_dir)";
    }
  }
  return "";
}

}  // namespace ferry::migration
