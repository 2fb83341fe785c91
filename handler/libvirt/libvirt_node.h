// The libvirt implementation of domain::NodeHypervisor: this node's libvirtd for the node
// agent (host facts, domains, lifecycle calls, lifecycle events, disk images through libvirt's
// storage API). Callers see only this factory; the libvirt headers stay inside handler/libvirt.
#pragma once

#include <memory>
#include <string>

#include "domain/node_hypervisor.h"

namespace ferry::libvirt {

struct LibvirtNodeOptions {
  std::string uri;  // this node's libvirtd, e.g. qemu:///system or qemu+unix:///system?socket=...
  // For the domain capabilities (usable CPU models) and the QEMU version: the emulator and
  // virtualization type the agent's domains use ("" = libvirt's defaults).
  std::string emulator;
  std::string virt_type = "kvm";
  std::string arch = "x86_64";
  std::string machine;
  // Reported QEMU version; "" = `<emulator> --version` (or libvirt's hypervisor version
  // without an emulator).
  std::string qemu_version;
};

std::unique_ptr<domain::NodeHypervisor> NewLibvirtNodeHypervisor(LibvirtNodeOptions options);

}  // namespace ferry::libvirt
