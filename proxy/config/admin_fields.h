#pragma once
// The `admin` section: the observe listener (admin.address) and the control listener
// (admin.control: address or unix socket, mode, token_file, allow_insecure). Main thread only.

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace remora::config {

// Reads `admin` from the root map into `admin`, reporting errors with their field paths.
void readAdmin(const yaml::MapReader& root, Admin& admin);
// The checks that span fields: control given as both address and unix, a non-loopback control
// without a token, and the two admin listeners or a listener sharing an address.
void checkAdmin(const Config& config, yaml::Errors& errors);
// Emits `admin: {...}` so that loading it back gives the same Admin.
void emitAdmin(YAML::Emitter& out, const Admin& admin);

// "0600" for 0600: how the mode is written in YAML and JSON.
std::string formatMode(uint32_t mode);

}  // namespace remora::config
