#include "config/request_fields.h"

#include <algorithm>
#include <cctype>

#include "config/cluster_fields.h"

namespace remora::config {

namespace {

constexpr std::string_view kProtocol = "an upgrade protocol token, e.g. websocket";

bool isToken(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           kExtra.find(c) != std::string_view::npos;
  });
}

void readUpgrades(const yaml::MapReader& listener, std::vector<std::string>& out) {
  const YAML::Node list = listener.get("upgrades");
  if (!list.IsDefined()) return;
  const std::string path = listener.path("upgrades");
  if (!list.IsSequence()) {
    listener.errors().expected(path, "a list of upgrade protocols", list);
    return;
  }
  out.clear();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = yaml::indexPath(path, i);
    if (!list[i].IsScalar() || !isToken(list[i].Scalar())) {
      listener.errors().expected(at, kProtocol, list[i]);
      continue;
    }
    std::string name = list[i].Scalar();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (name == "h2c") {
      // RFC 9113 removed the upgrade; forwarding it would carry HTTP/2 past the filters.
      listener.errors().add(at, "h2c cannot be forwarded as an upgrade");
      continue;
    }
    out.push_back(std::move(name));
  }
}

const char* encodedSlashesName(EncodedSlashes e) {
  switch (e) {
    case EncodedSlashes::kReject:
      return "reject";
    case EncodedSlashes::kDecode:
      return "decode";
    case EncodedSlashes::kKeep:
      break;
  }
  return "keep";
}

}  // namespace

void readRequestPolicy(const yaml::MapReader& listener, Listener& out) {
  const yaml::MapReader reader(listener.get("path_normalization"),
                               listener.path("path_normalization"),
                               {"merge_slashes", "encoded_slashes"}, listener.errors());
  readBool(reader, "merge_slashes", out.path_normalization.merge_slashes);
  reader.readChoice<EncodedSlashes>("encoded_slashes",
                                    {{"keep", EncodedSlashes::kKeep},
                                     {"reject", EncodedSlashes::kReject},
                                     {"decode", EncodedSlashes::kDecode}},
                                    out.path_normalization.encoded_slashes);
  readUpgrades(listener, out.upgrades);
}

void emitRequestPolicy(YAML::Emitter& out, const Listener& listener) {
  out << YAML::Key << "path_normalization" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "merge_slashes" << YAML::Value << listener.path_normalization.merge_slashes;
  out << YAML::Key << "encoded_slashes" << YAML::Value
      << encodedSlashesName(listener.path_normalization.encoded_slashes);
  out << YAML::EndMap;
  out << YAML::Key << "upgrades" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& name : listener.upgrades) out << name;
  out << YAML::EndSeq;
}

}  // namespace remora::config
