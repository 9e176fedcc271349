#include "auth_config.h"

#include <remora/sdk/config_reader.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "encoding.h"
#include "jwks.h"
#include "path_match.h"

namespace remora::auth {
namespace {

using nlohmann::json;
using sdk::ConfigErrors;
using sdk::ConfigReader;
using namespace std::chrono_literals;

constexpr size_t kMaxKeyFileBytes = 1 << 20;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<std::string> readFile(const std::string& path, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().size() > kMaxKeyFileBytes) {
    *why = path + " is larger than 1 MiB";
    return std::nullopt;
  }
  return buf.str();
}

CredentialSource readSource(ConfigErrors* errors, ConfigReader& obj, std::string default_header,
                            std::string default_prefix) {
  CredentialSource src;
  src.header = lower(obj.stringOr("header", std::move(default_header)));
  src.prefix = obj.stringOr("prefix", std::move(default_prefix));
  src.query_param = obj.stringOr("query_param", "");
  if (src.header.empty() && src.query_param.empty()) {
    errors->fail(obj.pathOf("header"), "header and query_param cannot both be empty");
  }
  return src;
}

// One entry of jwt.keys: exactly one source field. A JWKS entry may yield several keys.
void readJwtKey(ConfigErrors* errors, const json& item, const std::string& where,
                std::vector<JwtKey>* out) {
  ConfigReader obj = ConfigReader::section(&item, where, *errors);
  if (!obj.valid()) return;
  std::string kid = obj.stringOr("kid", "");
  std::optional<JwtAlg> alg;
  if (auto name = obj.optionalString("alg")) {
    alg = parseJwtAlg(*name);
    if (!alg)
      errors->fail(obj.pathOf("alg"), "must be one of HS256, RS256, ES256, got \"" + *name + "\"");
  }
  static constexpr const char* kSources[] = {"secret",   "secret_base64", "pem",
                                             "pem_file", "jwks",          "jwks_file"};
  int count = 0;
  const char* source = nullptr;
  for (const char* s : kSources) {
    if (obj.has(s)) {
      ++count;
      source = s;
    }
  }
  if (count != 1) {
    errors->fail(where,
                 "needs exactly one of secret, secret_base64, pem, pem_file, jwks, jwks_file");
    return;
  }
  std::string field = source;
  std::string text;
  std::string why;
  if (field == "jwks") {
    const json* doc = obj.raw("jwks");
    text = doc != nullptr ? doc->dump() : "";
  } else if (auto value = obj.optionalString(field)) {
    text = std::move(*value);
    if (field == "pem_file" || field == "jwks_file") {
      auto content = readFile(text, &why);
      if (!content) return errors->fail(obj.pathOf(field), why);
      text = std::move(*content);
    }
  }
  obj.finish();
  if (errors->failed()) return;
  if (field == "jwks" || field == "jwks_file") {
    if (alg || !kid.empty()) return errors->fail(where, "kid and alg come from the JWKS itself");
    auto keys = parseJwks(text);
    if (!keys) return errors->fail(obj.pathOf(field), keys.error());
    for (auto& k : *keys) out->push_back(std::move(k));
    return;
  }
  sdk::Result<JwtKey> key = sdk::Error{""};
  if (field == "secret" || field == "secret_base64") {
    if (alg && *alg != JwtAlg::kHS256)
      return errors->fail(obj.pathOf("alg"), "a secret is for HS256");
    if (field == "secret_base64") {
      auto bytes = base64DecodeLenient(text);
      if (!bytes) return errors->fail(obj.pathOf(field), "not base64");
      text = std::move(*bytes);
    }
    key = makeHmacKey(std::move(kid), std::move(text));
  } else {
    key = makePemKey(std::move(kid), alg, text);
  }
  if (!key) return errors->fail(obj.pathOf(field), key.error());
  out->push_back(std::move(*key));
}

std::optional<JwtSettings> readJwt(ConfigErrors* errors, const json* value) {
  ConfigReader obj = ConfigReader::section(value, "jwt", *errors);
  if (!obj.valid()) return std::nullopt;
  JwtSettings jwt;
  jwt.source = readSource(errors, obj, "authorization", "Bearer ");
  JwtRules rules;
  rules.issuers = obj.stringList("issuers");
  rules.audiences = obj.stringList("audiences");
  rules.clock_skew_s =
      std::chrono::duration_cast<std::chrono::seconds>(obj.durationOr("clock_skew", 60s, 0s, 1h))
          .count();
  rules.require_exp = obj.booleanOr("require_exp", true);
  rules.max_token_bytes =
      static_cast<size_t>(obj.integerOr("max_token_bytes", 8192, 256, 64 * 1024));
  jwt.cache_size = static_cast<size_t>(obj.integerOr("cache_size", 1000, 0, 1'000'000));
  std::vector<JwtKey> keys;
  const json* list = obj.raw("keys");
  if (list == nullptr || !list->is_array() || list->empty()) {
    errors->fail(obj.pathOf("keys"), "must be a non-empty list");
  } else {
    for (size_t i = 0; i < list->size(); ++i) {
      readJwtKey(errors, (*list)[i], sdk::indexPath(obj.pathOf("keys"), i), &keys);
    }
  }
  obj.finish();
  jwt.verifier = std::make_shared<const JwtVerifier>(std::move(keys), std::move(rules));
  return jwt;
}

std::optional<ApiKeySettings> readApiKey(ConfigErrors* errors, const json* value) {
  ConfigReader obj = ConfigReader::section(value, "api_key", *errors);
  if (!obj.valid()) return std::nullopt;
  CredentialSource source = readSource(errors, obj, "x-api-key", "");
  std::vector<std::pair<std::string, std::string>> entries;
  const json* list = obj.raw("keys");
  if (list == nullptr || !list->is_array() || list->empty()) {
    errors->fail(obj.pathOf("keys"), "must be a non-empty list");
  } else {
    for (size_t i = 0; i < list->size(); ++i) {
      ConfigReader entry =
          ConfigReader::section(&(*list)[i], sdk::indexPath(obj.pathOf("keys"), i), *errors);
      entries.emplace_back(entry.stringOr("name", ""), lower(entry.stringOr("sha256", "")));
      entry.finish();
    }
  }
  obj.finish();
  if (errors->failed()) return std::nullopt;
  auto store = ApiKeyStore::create(entries);
  if (!store) {
    errors->failRaw(obj.pathOf("keys") + store.error());
    return std::nullopt;
  }
  return ApiKeySettings{std::move(source), std::move(*store)};
}

std::optional<ExtAuthzSettings> readExtAuthz(ConfigErrors* errors, const json* value) {
  ConfigReader obj = ConfigReader::section(value, "ext_authz", *errors);
  if (!obj.valid()) return std::nullopt;
  ExtAuthzSettings ext;
  ext.cluster = obj.stringOr("cluster", "");
  if (ext.cluster.empty()) errors->fail(obj.pathOf("cluster"), "required");
  ext.path = obj.stringOr("path", "");
  if (ext.path.empty() || ext.path[0] != '/') errors->fail(obj.pathOf("path"), "must start with /");
  ext.method = obj.stringOr("method", "GET");
  // The kernel sends only methods it knows, spelled as RFC 9110 does (upper case): catch a
  // misspelling here rather than failing every check at run time.
  static constexpr std::string_view kMethods[] = {"GET",    "HEAD",    "POST", "PUT",
                                                  "DELETE", "OPTIONS", "PATCH"};
  if (std::find(std::begin(kMethods), std::end(kMethods), ext.method) == std::end(kMethods)) {
    errors->fail(
        obj.pathOf("method"),
        "must be one of GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, got \"" + ext.method + "\"");
  }
  ext.timeout_ms = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(obj.durationOr("timeout", 1s, 1ms, 60s))
          .count());
  ext.forward_headers = obj.has("forward_headers") ? obj.stringList("forward_headers")
                                                   : std::vector<std::string>{"authorization"};
  ext.upstream_headers = obj.stringList("upstream_headers");
  ext.principal_header = lower(obj.stringOr("principal_header", ""));
  for (auto* list : {&ext.forward_headers, &ext.upstream_headers}) {
    for (auto& h : *list) h = lower(h);
  }
  std::string mode = obj.stringOr("failure_mode", "closed");
  if (mode != "closed" && mode != "open") {
    errors->fail(obj.pathOf("failure_mode"),
                 "must be \"closed\" or \"open\", got \"" + mode + "\"");
  }
  ext.fail_open = mode == "open";
  ext.status_on_error = static_cast<int>(obj.integerOr("status_on_error", 503, 400, 599));
  obj.finish();
  return ext;
}

std::optional<Method> parseMethod(std::string_view name) {
  if (name == "jwt") return Method::kJwt;
  if (name == "api_key") return Method::kApiKey;
  if (name == "ext_authz") return Method::kExtAuthz;
  if (name == "mtls") return Method::kMtls;
  return std::nullopt;
}

// `list` names methods; each must be known, configured and listed once.
std::vector<Method> readMethods(ConfigErrors* errors, const json& list, const std::string& where,
                                const AuthConfig& config) {
  std::vector<Method> out;
  if (!list.is_array() || list.empty()) {
    errors->fail(where, "must be a non-empty list of jwt, api_key, ext_authz, mtls");
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    auto m =
        list[i].is_string() ? parseMethod(list[i].get_ref<const std::string&>()) : std::nullopt;
    if (!m) {
      errors->fail(at, "must be one of jwt, api_key, ext_authz, mtls");
      continue;
    }
    bool configured = *m == Method::kMtls || (*m == Method::kJwt && config.jwt) ||
                      (*m == Method::kApiKey && config.api_key) ||
                      (*m == Method::kExtAuthz && config.ext_authz);
    if (!configured) {
      errors->fail(at, "\"" + std::string(methodName(*m)) + "\" needs the " +
                           std::string(methodName(*m)) + " section");
    }
    if (std::find(out.begin(), out.end(), *m) != out.end()) errors->fail(at, "listed twice");
    out.push_back(*m);
  }
  return out;
}

// The requirement fields of a rule or of `default`: require (list, "none", or {any_of: list}),
// principals, scopes.
Requirement readRequirement(ConfigErrors* errors, ConfigReader& obj, const AuthConfig& config) {
  Requirement req;
  const json* require = obj.raw("require");
  std::string where = obj.pathOf("require");
  if (require == nullptr) {
    errors->fail(where, "required (a list of methods, \"none\", or {any_of: [...]})");
  } else if (require->is_string()) {
    if (*require != "none")
      errors->fail(where, "must be a list of methods, \"none\", or {any_of: [...]}");
  } else if (require->is_object()) {
    ConfigReader any = ConfigReader::section(require, where, *errors);
    const json* list = any.raw("any_of");
    if (list == nullptr)
      errors->fail(where + ".any_of", "required");
    else
      req.methods = readMethods(errors, *list, where + ".any_of", config);
    any.finish();
    req.mode = Requirement::Mode::kAnyOf;
  } else {
    req.methods = readMethods(errors, *require, where, config);
    req.mode = Requirement::Mode::kAllOf;
  }
  req.principals = obj.stringList("principals");
  req.scopes = obj.stringList("scopes");
  for (size_t i = 0; i < req.scopes.size(); ++i) {
    // RFC 6749 §3.3 scope-token bytes: they are quoted into WWW-Authenticate as they are.
    const std::string& s = req.scopes[i];
    if (std::any_of(s.begin(), s.end(),
                    [](char c) { return c <= ' ' || c == '"' || c == '\\' || c == 0x7f; })) {
      errors->fail(sdk::indexPath(obj.pathOf("scopes"), i),
                   "must be a scope token (no spaces, quotes or backslashes)");
    }
  }
  if (req.mode == Requirement::Mode::kNone && (!req.principals.empty() || !req.scopes.empty())) {
    errors->fail(where, "\"none\" cannot have principals or scopes");
  }
  if (!req.scopes.empty() && !req.uses(Method::kJwt)) {
    errors->fail(obj.pathOf("scopes"), "scopes are JWT claims: the rule must accept jwt");
  }
  return req;
}

void readRules(ConfigErrors* errors, const json* list, AuthConfig* config) {
  if (list == nullptr) return;
  if (!list->is_array()) return errors->fail("rules", "must be a list");
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = "rules[" + std::to_string(i) + "]";
    ConfigReader obj = ConfigReader::section(&(*list)[i], where, *errors);
    if (!obj.valid()) continue;
    Rule rule;
    rule.prefix = obj.stringOr("prefix", "");
    if (rule.prefix.empty() || rule.prefix[0] != '/') {
      errors->fail(obj.pathOf("prefix"), "must start with /");
    } else if (normalizeForMatch(rule.prefix) != rule.prefix) {
      errors->fail(obj.pathOf("prefix"),
                   "must be a normalized path (no //, . or .. segments, %xx)");
    }
    rule.methods = obj.stringList("methods");
    for (size_t m = 0; m < rule.methods.size(); ++m) {
      std::string& method = rule.methods[m];
      if (method.empty() || !std::all_of(method.begin(), method.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
          })) {
        errors->fail(sdk::indexPath(obj.pathOf("methods"), m), "must be an HTTP method name");
      }
      for (char& c : method) c = char(std::toupper(static_cast<unsigned char>(c)));
    }
    for (size_t j = 0; j < config->rules.size(); ++j) {
      const Rule& earlier = config->rules[j];
      // Shadowed when the earlier rule covers the prefix and every method this one names.
      bool covered = earlier.methods.empty() ||
                     (!rule.methods.empty() &&
                      std::all_of(rule.methods.begin(), rule.methods.end(), [&](const auto& m) {
                        return std::find(earlier.methods.begin(), earlier.methods.end(), m) !=
                               earlier.methods.end();
                      }));
      if (!rule.prefix.empty() && covered && rule.prefix.starts_with(earlier.prefix)) {
        errors->fail(obj.pathOf("prefix"), "never matches: rules[" + std::to_string(j) + "] (\"" +
                                               config->rules[j].prefix + "\") comes first");
      }
    }
    rule.requirement = readRequirement(errors, obj, *config);
    obj.finish();
    config->rules.push_back(std::move(rule));
  }
}

// Without `default`, an unmatched request needs any one of the configured methods: configuring
// auth and forgetting a rule must not leave routes open.
Requirement implicitDefault(const AuthConfig& config) {
  Requirement req;
  req.mode = Requirement::Mode::kAnyOf;
  if (config.jwt) req.methods.push_back(Method::kJwt);
  if (config.api_key) req.methods.push_back(Method::kApiKey);
  if (config.ext_authz) req.methods.push_back(Method::kExtAuthz);
  return req;
}

}  // namespace

std::string_view methodName(Method m) {
  switch (m) {
    case Method::kJwt:
      return "jwt";
    case Method::kApiKey:
      return "api_key";
    case Method::kExtAuthz:
      return "ext_authz";
    case Method::kMtls:
      return "mtls";
  }
  return "?";
}

bool Requirement::uses(Method m) const {
  return std::find(methods.begin(), methods.end(), m) != methods.end();
}

bool Rule::matches(std::string_view normalized_path, std::string_view method) const {
  if (!normalized_path.starts_with(prefix)) return false;
  return methods.empty() || std::find(methods.begin(), methods.end(), method) != methods.end();
}

const Requirement& AuthConfig::match(std::string_view normalized_path,
                                     std::string_view method) const {
  for (const Rule& rule : rules) {
    if (rule.matches(normalized_path, method)) return rule.requirement;
  }
  return default_requirement;
}

sdk::Result<AuthConfigPtr> parseAuthConfig(const json& doc) {
  ConfigErrors errors;
  ConfigReader top = ConfigReader::section(&doc, "", errors);
  if (!top.valid()) return sdk::Error{errors.first()};
  auto config = std::make_shared<AuthConfig>();
  config->realm = top.stringOr("realm", "remora");
  // The realm is quoted into WWW-Authenticate: keep it to bytes that need no escaping.
  if (config->realm.empty() || config->realm.find_first_of("\"\\\r\n") != std::string::npos) {
    errors.fail("realm", "must be non-empty, without quotes, backslashes or line breaks");
  }
  config->jwt = readJwt(&errors, top.raw("jwt"));
  config->api_key = readApiKey(&errors, top.raw("api_key"));
  config->ext_authz = readExtAuthz(&errors, top.raw("ext_authz"));
  // With no section, only mtls can be required: the default must then say what applies, as the
  // implicit one ("any configured method") would be empty.
  if (!errors.failed() && !config->jwt && !config->api_key && !config->ext_authz &&
      !top.has("default")) {
    errors.fail("config",
                "needs at least one of jwt, api_key, ext_authz, or a default such as "
                "{\"require\": [\"mtls\"]}");
  }
  readRules(&errors, top.raw("rules"), config.get());
  if (top.has("default")) {
    ConfigReader def = ConfigReader::section(top.raw("default"), "default", errors);
    if (def.valid()) config->default_requirement = readRequirement(&errors, def, *config);
    def.finish();
  } else {
    config->default_requirement = implicitDefault(*config);
  }
  top.finish();
  if (errors.failed()) return sdk::Error{errors.first()};
  return AuthConfigPtr(std::move(config));
}

}  // namespace remora::auth
