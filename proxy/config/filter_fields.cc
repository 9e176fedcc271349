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

namespace {

void readOnError(const yaml::MapReader& reader, OnError& out) {
  reader.readChoice<OnError>(
      "on_error", {{"fail_closed", OnError::kFailClosed}, {"fail_open", OnError::kFailOpen}}, out);
}

void readQuarantine(const yaml::MapReader& parent, Quarantine& out) {
  const yaml::MapReader reader(parent.get("quarantine"), parent.path("quarantine"),
                               {"after_errors", "hook_budget_ms"}, parent.errors());
  reader.readUint("after_errors", 0, 1000000, out.after_errors);
  reader.readUint("hook_budget_ms", 0, 600000, out.hook_budget_ms);
}

// A .so path: absolute, so a reload from another working directory means the same file.
bool readSoPath(const yaml::MapReader& reader, bool required, std::string& out) {
  constexpr std::string_view kExpected = "an absolute path to a plugin .so";
  if (!reader.readString("path", required, kExpected, out)) return false;
  if (out.empty() || out[0] != '/') {
    reader.errors().expected(reader.path("path"), kExpected, reader.get("path"));
    return false;
  }
  return true;
}

void readCanary(const yaml::MapReader& entry, FilterRef& ref) {
  const YAML::Node node = entry.get("canary");
  if (!node.IsDefined() || node.IsNull()) return;
  const yaml::MapReader reader(node, entry.path("canary"), {"path", "percent", "header", "value"},
                               entry.errors());
  if (!reader.isMap()) return;
  FilterCanary c;
  readSoPath(reader, true, c.path);
  reader.readUint("percent", 0, 100, c.percent);
  if (reader.readString("header", false, "a header name", c.header)) {
    if (c.header.empty() || c.header.find_first_of(" :\t\r\n") != std::string::npos)
      entry.errors().expected(reader.path("header"), "a header name", reader.get("header"));
    for (char& ch : c.header)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  if (reader.readString("value", false, "a header value", c.value) && c.header.empty())
    entry.errors().add(reader.path("value"), "needs `header`");
  if (c.percent == 0 && c.header.empty())
    entry.errors().add(reader.path(), "sends no traffic: set `percent` and/or `header`");
  ref.canary = std::move(c);
}

}  // namespace

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
    const yaml::MapReader reader(node, at,
                                 {"name", "path", "config", "canary", "on_error", "quarantine"},
                                 listener.errors());
    FilterRef& ref = filters.emplace_back();
    reader.readName("name", ref.name);
    if (reader.get("path").IsDefined()) readSoPath(reader, false, ref.path);
    readCanary(reader, ref);
    if (reader.get("on_error").IsDefined()) {
      OnError e = OnError::kFailClosed;
      readOnError(reader, e);
      ref.on_error = e;
    }
    if (reader.get("quarantine").IsDefined()) {
      Quarantine q;
      readQuarantine(reader, q);
      ref.quarantine = q;
    }
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

void emitFilterRef(YAML::Emitter& out, const FilterRef& f) {
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << f.name;
  if (!f.path.empty()) out << YAML::Key << "path" << YAML::Value << f.path;
  if (f.canary) {
    out << YAML::Key << "canary" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value << f.canary->path;
    out << YAML::Key << "percent" << YAML::Value << f.canary->percent;
    if (!f.canary->header.empty()) out << YAML::Key << "header" << YAML::Value << f.canary->header;
    if (!f.canary->value.empty())
      out << YAML::Key << "value" << YAML::Value << YAML::DoubleQuoted << f.canary->value;
    out << YAML::EndMap;
  }
  if (f.on_error) emitOnError(out, *f.on_error);
  if (f.quarantine) emitQuarantine(out, *f.quarantine);
  out << YAML::Key << "config" << YAML::Value;
  emitJsonAsYaml(out, nlohmann::json::parse(f.config_json));
  out << YAML::EndMap;
}

void emitOnError(YAML::Emitter& out, OnError e) {
  out << YAML::Key << "on_error" << YAML::Value
      << (e == OnError::kFailOpen ? "fail_open" : "fail_closed");
}

void emitQuarantine(YAML::Emitter& out, const Quarantine& q) {
  out << YAML::Key << "quarantine" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "after_errors" << YAML::Value << q.after_errors;
  out << YAML::Key << "hook_budget_ms" << YAML::Value << q.hook_budget_ms;
  out << YAML::EndMap;
}

void readFilterOptions(const yaml::MapReader& listener, Listener& out) {
  listener.readChoice<bool>("filter_order", {{"config", false}, {"priority", true}},
                            out.order_by_priority);
  const YAML::Node defaults = listener.get("filter_defaults");
  if (defaults.IsDefined()) {
    const yaml::MapReader reader(defaults, listener.path("filter_defaults"),
                                 {"on_error", "quarantine"}, listener.errors());
    readOnError(reader, out.on_error);
    readQuarantine(reader, out.quarantine);
  }
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
