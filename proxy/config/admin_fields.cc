#include "config/admin_fields.h"

#include <sys/un.h>

#include <string>

namespace remora::config {
namespace {

using yaml::Errors;
using yaml::MapReader;

constexpr std::string_view kModeExpected = "an octal file mode such as 0600";

// "0600", "600", "0660": up to four octal digits, at most 0777 (no setuid, setgid or sticky bits
// on a socket file).
std::optional<uint32_t> parseMode(const std::string& text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (mode > 0777) return std::nullopt;
  return mode;
}

void readUnixSocket(const MapReader& reader, AdminControl& control) {
  std::string path;
  if (reader.readString("unix", false, "an absolute socket path", path)) {
    if (path.empty() || path.front() != '/') {
      reader.errors().expected(reader.path("unix"), "an absolute socket path", reader.get("unix"));
    } else if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      reader.errors().add(reader.path("unix"),
                          "a Unix socket path is limited to " +
                              std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes, got " +
                              std::to_string(path.size()));
    } else {
      control.unix_path = std::move(path);
    }
    if (reader.get("address").IsDefined()) {
      reader.errors().add(reader.path("unix"), "give " + reader.path("address") + " or " +
                                                   reader.path("unix") + ", not both");
    }
  }
  std::string mode;
  if (!reader.readString("mode", false, kModeExpected, mode)) return;
  if (!reader.get("unix").IsDefined()) {
    reader.errors().add(reader.path("mode"),
                        "applies to a Unix socket only: set " + reader.path("unix") + " too");
    return;
  }
  if (auto parsed = parseMode(mode)) {
    control.mode = *parsed;
  } else {
    reader.errors().expected(reader.path("mode"), kModeExpected, reader.get("mode"));
  }
}

void readControl(const MapReader& admin, AdminControl& control) {
  const MapReader reader(admin.get("control"), admin.path("control"),
                         {"address", "unix", "mode", "token_file", "allow_insecure"},
                         admin.errors());
  reader.readAddress("address", false, control.address);
  readUnixSocket(reader, control);
  std::string token_file;
  if (reader.readString("token_file", false, "a file path", token_file)) {
    if (token_file.empty()) {
      reader.errors().expected(reader.path("token_file"), "a file path", reader.get("token_file"));
    } else {
      control.token_file = std::move(token_file);
    }
  }
  reader.readChoice<bool>("allow_insecure", {{"true", true}, {"false", false}},
                          control.allow_insecure);
}

void checkConflict(const std::string& path, const SocketAddress& address,
                   const std::string& other_path, const SocketAddress& other, Errors& errors) {
  if (yaml::addressesConflict(address, other))
    errors.add(path, address.str() + " conflicts with " + other_path + " " + other.str());
}

}  // namespace

void readAdmin(const MapReader& root, Admin& admin) {
  const MapReader reader(root.get("admin"), root.path("admin"), {"address", "control"},
                         root.errors());
  reader.readAddress("address", false, admin.address);
  readControl(reader, admin.control);
}

void checkAdmin(const Config& config, Errors& errors) {
  const AdminControl& control = config.admin.control;
  const bool tcp_control = control.unix_path.empty();
  if (tcp_control && !control.address.isLoopback() && control.token_file.empty() &&
      !control.allow_insecure) {
    errors.add("admin.control.address",
               control.address.str() +
                   ": a non-loopback control listener needs admin.control.token_file (or "
                   "allow_insecure: true)");
  }
  if (tcp_control) {
    checkConflict("admin.control.address", control.address, "admin.address", config.admin.address,
                  errors);
  }
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const std::string path = yaml::indexPath("listeners", i) + ".address";
    checkConflict("admin.address", config.admin.address, path, config.listeners[i].address, errors);
    if (tcp_control)
      checkConflict("admin.control.address", control.address, path, config.listeners[i].address,
                    errors);
  }
}

std::string formatMode(uint32_t mode) {
  std::string out;
  for (int shift = 6; shift >= 0; shift -= 3) out += static_cast<char>('0' + ((mode >> shift) & 7));
  return "0" + out;
}

void emitAdmin(YAML::Emitter& out, const Admin& admin) {
  const AdminControl& control = admin.control;
  out << YAML::Key << "admin" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << admin.address.str();
  out << YAML::Key << "control" << YAML::Value << YAML::BeginMap;
  if (control.unix_path.empty()) {
    out << YAML::Key << "address" << YAML::Value << control.address.str();
  } else {
    out << YAML::Key << "unix" << YAML::Value << YAML::DoubleQuoted << control.unix_path;
    out << YAML::Key << "mode" << YAML::Value << YAML::DoubleQuoted << formatMode(control.mode);
  }
  if (!control.token_file.empty())
    out << YAML::Key << "token_file" << YAML::Value << YAML::DoubleQuoted << control.token_file;
  if (control.allow_insecure) out << YAML::Key << "allow_insecure" << YAML::Value << true;
  out << YAML::EndMap;
  out << YAML::EndMap;
}

}  // namespace remora::config
