// headers: adds, sets and removes request and response headers.
//
// Config (see README.md):
//   {"request":  {"remove": ["x-internal"], "set": {"x-env": "prod"}, "add": {"via": "remora"}},
//    "response": {"remove": ["server"],     "set": {...},             "add": {...}}}
// Each block is applied in the order remove, set, add, so `remove: [x]` + `add: {x: v}` leaves
// exactly one x: v.

#include <remora/sdk/config_reader.h>
#include <remora/sdk/filter.h>

#include <cctype>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace remora::filters::headers {

namespace sdk = remora::sdk;
using sdk::Status;

namespace {

// RFC 9110 token characters: what a header name may contain.
bool isTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return kExtra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool validName(std::string_view name, std::string_view path, std::string& error) {
  if (name.empty()) {
    error = std::string(path) + ": a header name must not be empty";
    return false;
  }
  for (unsigned char c : name) {
    if (!isTokenChar(c)) {
      error = std::string(path) + ": invalid header name '" + std::string(name) + "'";
      return false;
    }
  }
  // Framing is the codec's business: rewriting these would desynchronise the message.
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection") {
    error = std::string(path) + ": '" + std::string(name) + "' is managed by the proxy";
    return false;
  }
  return true;
}

bool validValue(std::string_view value, std::string_view path, std::string& error) {
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      error = std::string(path) + ": header values must not contain CR, LF or NUL";
      return false;
    }
  }
  return true;
}

// What to do to one header block.
struct Mutations {
  std::vector<std::string> remove;
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;

  bool empty() const { return remove.empty() && set.empty() && add.empty(); }

  void apply(const sdk::Stream& s, sdk::HeaderKind kind) const {
    for (const std::string& name : remove) s.removeHeader(kind, name);
    for (const auto& [name, value] : set) s.setHeader(kind, name, value);
    for (const auto& [name, value] : add) s.addHeader(kind, name, value);
  }
};

// Reads {"name": "value"} — for `add` also {"name": ["v1", "v2"]} — into `out`.
bool parsePairs(const nlohmann::json& v, const std::string& path, bool allow_lists,
                std::vector<std::pair<std::string, std::string>>& out, std::string& error) {
  if (!v.is_object()) {
    error = path + ": must be an object of header names to values, got " + sdk::describeJson(v);
    return false;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string field = sdk::fieldPath(path, it.key());
    if (!validName(it.key(), field, error)) return false;
    std::vector<const nlohmann::json*> values;
    if (allow_lists && it.value().is_array()) {
      for (const auto& e : it.value()) values.push_back(&e);
    } else {
      values.push_back(&it.value());
    }
    for (const nlohmann::json* e : values) {
      if (!e->is_string()) {
        error = field + ": must be a string" + (allow_lists ? " or a list of strings" : "") +
                ", got " + sdk::describeJson(*e);
        return false;
      }
      std::string value = e->get<std::string>();
      if (!validValue(value, field, error)) return false;
      out.emplace_back(it.key(), std::move(value));
    }
  }
  return true;
}

bool parseMutations(const nlohmann::json& v, const std::string& path, Mutations& out,
                    std::string& error) {
  if (!sdk::checkObject(v, path, {"add", "set", "remove"}, error)) return false;
  if (v.contains("remove")) {
    const nlohmann::json& r = v["remove"];
    std::string field = sdk::fieldPath(path, "remove");
    if (!r.is_array()) {
      error = field + ": must be a list of header names, got " + sdk::describeJson(r);
      return false;
    }
    for (size_t i = 0; i < r.size(); ++i) {
      std::string item = sdk::indexPath(field, i);
      if (!r[i].is_string()) {
        error = item + ": must be a header name, got " + sdk::describeJson(r[i]);
        return false;
      }
      if (!validName(r[i].get<std::string>(), item, error)) return false;
      out.remove.push_back(r[i].get<std::string>());
    }
  }
  if (v.contains("set") &&
      !parsePairs(v["set"], sdk::fieldPath(path, "set"), false, out.set, error)) {
    return false;
  }
  if (v.contains("add") &&
      !parsePairs(v["add"], sdk::fieldPath(path, "add"), true, out.add, error)) {
    return false;
  }
  return true;
}

}  // namespace

class Config {
 public:
  static std::unique_ptr<Config> create(const nlohmann::json& json, sdk::ConfigContext&,
                                        std::string& error) {
    if (!sdk::checkObject(json, "", {"request", "response"}, error)) return nullptr;
    auto c = std::make_unique<Config>();
    if (json.contains("request") &&
        !parseMutations(json["request"], "request", c->request, error)) {
      return nullptr;
    }
    if (json.contains("response") &&
        !parseMutations(json["response"], "response", c->response, error)) {
      return nullptr;
    }
    return c;
  }

  Mutations request;
  Mutations response;
};

class Filter final : public sdk::Filter {
 public:
  explicit Filter(const Config& config) : config_(config) {}

  Status onRequestHeaders(bool) override {
    if (!config_.request.empty()) config_.request.apply(stream(), sdk::HeaderKind::kRequest);
    return Status::kContinue;
  }

  Status onResponseHeaders(bool) override {
    if (!config_.response.empty()) config_.response.apply(stream(), sdk::HeaderKind::kResponse);
    return Status::kContinue;
  }

 private:
  const Config& config_;
};

}  // namespace remora::filters::headers

REMORA_FILTER_PLUGIN("headers", "1.0.0", 300, remora::filters::headers::Config,
                     remora::filters::headers::Filter)
