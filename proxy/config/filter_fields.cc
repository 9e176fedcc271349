#include "config/filter_fields.h"

#include <cerrno>
#include <cstdlib>

namespace remora::config {
namespace {

bool isPlain(const YAML::Node& n) {
  return n.Tag() == "?" || n.Tag().empty();
}

nlohmann::json scalarToJson(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (!isPlain(n)) return s;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
  if (!s.empty()) {
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0') return i;
    errno = 0;
    double d = std::strtod(s.c_str(), &end);
    if (errno == 0 && end && *end == '\0' && s.find_first_of("0123456789") != std::string::npos)
      return d;
  }
  return s;
}

// True when a plain scalar would not read back as exactly `s`: empty, control bytes or edge
// spaces (YAML folds line breaks and trims), or text YAML parses as something else.
bool needsQuotes(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t')
    return true;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  try {
    YAML::Node probe = YAML::Load(s);
    return !probe.IsScalar() || probe.Scalar() != s;
  } catch (const YAML::Exception&) {
    return true;
  }
}

}  // namespace

nlohmann::json yamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = yamlToJson(kv.second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node) arr.push_back(yamlToJson(item));
      return arr;
    }
    case YAML::NodeType::Scalar:
      return scalarToJson(node);
    default:
      return nullptr;
  }
}

void emitJsonAsYaml(YAML::Emitter& out, const nlohmann::json& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, item] : v.items()) {
      out << YAML::Key;
      // YAML caps implicit keys at 1024 characters; longer ones need the explicit "? key" form.
      // Escaping can lengthen a quoted key several times over, so quoted keys use it too.
      const bool quote = needsQuotes(k);
      if (quote || k.size() > 256) out << YAML::LongKey;
      if (quote) out << YAML::DoubleQuoted;
      out << k << YAML::Value;
      emitJsonAsYaml(out, item);
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : v) emitJsonAsYaml(out, item);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    // Also quote text that would read back as another type (a string "true" or "12").
    const std::string& s = v.get_ref<const std::string&>();
    bool ambiguous = needsQuotes(s) || scalarToJson(YAML::Node(s)) != v;
    if (ambiguous) out << YAML::DoubleQuoted;
    out << s;
  } else if (v.is_boolean()) {
    out << (v.get<bool>() ? "true" : "false");
  } else if (v.is_null()) {
    out << YAML::Null;
  } else {
    out << v.dump();
  }
}

void readPlugins(const yaml::MapReader& root, Plugins& plugins) {
  const yaml::MapReader reader(root.get("plugins"), root.path("plugins"), {"dir", "cache_dir"},
                               root.errors());
  reader.readString("dir", false, "a directory path", plugins.dir);
  reader.readString("cache_dir", false, "a directory path", plugins.cache_dir);
}

void readFilters(const yaml::MapReader& listener, std::vector<FilterRef>& filters) {
  const YAML::Node list = listener.get("filters");
  if (!list.IsDefined()) return;
  const std::string path = listener.path("filters");
  if (!list.IsSequence() || list.size() == 0) {
    listener.errors().expected(path, "a non-empty list of filters", list);
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = yaml::indexPath(path, i);
    const YAML::Node node = list[i];
    if (!node.IsMap()) {
      listener.errors().expected(at, "a map", node);
      continue;
    }
    const yaml::MapReader reader(node, at, {"name", "config"}, listener.errors());
    FilterRef& ref = filters.emplace_back();
    reader.readName("name", ref.name);
    const YAML::Node cfg = reader.get("config");
    if (cfg.IsDefined() && !cfg.IsNull()) {
      if (!cfg.IsMap()) {
        listener.errors().expected(reader.path("config"), "a map", cfg);
        continue;
      }
      ref.config_json = yamlToJson(cfg).dump();
    }
  }
}

void readFilterOptions(const yaml::MapReader& listener, Listener& out) {
  listener.readChoice<bool>("filter_order", {{"config", false}, {"priority", true}},
                            out.order_by_priority);
  const YAML::Node list = listener.get("filter_overrides");
  if (!list.IsDefined()) return;
  const std::string path = listener.path("filter_overrides");
  if (!list.IsSequence()) {
    listener.errors().expected(path, "a list of overrides", list);
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = yaml::indexPath(path, i);
    if (!list[i].IsMap()) {
      listener.errors().expected(at, "a map", list[i]);
      continue;
    }
    const yaml::MapReader reader(list[i], at, {"prefix", "disable"}, listener.errors());
    FilterOverride& o = out.filter_overrides.emplace_back();
    constexpr std::string_view kPrefix = "a path starting with \"/\"";
    if (reader.readString("prefix", true, kPrefix, o.prefix) &&
        (o.prefix.empty() || o.prefix[0] != '/'))
      listener.errors().expected(reader.path("prefix"), kPrefix, reader.get("prefix"));
    const YAML::Node names = reader.get("disable");
    if (!names.IsSequence() || names.size() == 0) {
      listener.errors().expected(reader.path("disable"), "a non-empty list of filter names", names);
      continue;
    }
    for (size_t j = 0; j < names.size(); ++j) {
      const std::string npath = yaml::indexPath(reader.path("disable"), j);
      if (!names[j].IsScalar()) {
        listener.errors().expected(npath, "a filter name", names[j]);
        continue;
      }
      std::string name = names[j].Scalar();
      bool in_chain = false;
      for (const FilterRef& f : out.filters) in_chain |= f.name == name;
      if (!in_chain) {
        listener.errors().add(npath, "filter \"" + name + "\" is not in this listener's chain");
      } else if (name == "router") {
        listener.errors().add(npath, "the router cannot be disabled");
      } else {
        o.disable.push_back(std::move(name));
      }
    }
  }
}

}  // namespace remora::config
