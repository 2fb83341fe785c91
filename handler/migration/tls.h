// Which certificates a node needs for encrypted migrations, and whether it has them.
//
// Two TLS layers, both with certificates from a CA the cluster owns:
//   * QEMU's migration stream (VIR_MIGRATE_TLS): libvirt's qemu.conf migrate_tls_x509_cert_dir
//     (default /etc/pki/qemu) holds ca-cert.pem; the source QEMU is the TLS client
//     (client-cert.pem, client-key.pem), the target QEMU the server (server-cert.pem,
//     server-key.pem, its certificate naming the node's migration address).
//   * libvirtd's peer-to-peer connection (qemu+tls://): the target daemon listens with
//     listen_tls (its server certificate), the source daemon connects with a client
//     certificate (pkipath=DIR in the URI, or /etc/pki/libvirt).
// Every node is both source and target, so every node gets all of them.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace ferry::migration {

enum class TlsRole { kSource, kTarget };

// The files of QEMU's migration TLS a node in `role` needs in its cert dir.
std::vector<std::string> QemuTlsFiles(TlsRole role);

// The files of `files` missing (or unreadable) in dir.
std::vector<std::string> MissingFiles(const std::string& dir,
                                      const std::vector<std::string>& files);

// OK when dir holds what `role` needs; else FailedPrecondition naming the missing files.
Status CheckQemuTlsDir(const std::string& dir, TlsRole role);

enum class TlsSetting { kAuto, kOn, kOff };

// Whether to migrate over TLS: kOn needs the certificates (else the clear reason why not),
// kAuto uses TLS exactly where they are present, kOff never.
StatusOr<bool> ResolveTls(TlsSetting setting, const std::string& dir, TlsRole role);

// libvirt relays TLS failures as QEMU's object-add or handshake errors ("Unable to access
// credentials .../ca-cert.pem"); for such a message, a clear statement of what is wrong
// (certificates missing or not valid on a node), else "".
std::string ExplainTlsFailure(const std::string& libvirt_message);

}  // namespace ferry::migration
