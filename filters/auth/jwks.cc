#include "jwks.h"

#include <openssl/core_names.h>

#include <nlohmann/json.hpp>

#include "encoding.h"

namespace remora::auth {
namespace {

using nlohmann::json;

// Errors inside one JWK start with their separator, ".n: ..." for a member or ": ..." for the
// key as a whole, so the caller prefixes "keys[i]" and gets a field path either way.
sdk::Error memberError(const char* name, const char* what) {
  return sdk::Error{std::string(".") + name + ": " + what};
}
sdk::Error keyError(std::string what) {
  return sdk::Error{": " + std::move(what)};
}

// A base64url member of a JWK, decoded.
sdk::Result<std::string> member(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return memberError(name, "missing string");
  auto bytes = base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes || bytes->empty()) return memberError(name, "not base64url");
  return std::move(*bytes);
}

sdk::Result<EvpPkeyPtr> fromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return keyError("invalid public key");
  }
  EvpPkeyPtr pkey(raw);
  // fromdata does not check that an EC point lies on the curve; a JWKS is outside input.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return keyError("invalid public key");
  return pkey;
}

sdk::Result<EvpPkeyPtr> rsaFromJwk(const json& jwk) {
  auto n = member(jwk, "n");
  if (!n) return sdk::Error{n.error()};
  auto e = member(jwk, "e");
  if (!e) return sdk::Error{e.error()};
  BignumPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr));
  BignumPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return keyError("out of memory");
  }
  return fromData("RSA", bld.get());
}

sdk::Result<EvpPkeyPtr> ecFromJwk(const json& jwk) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string() || *crv != "P-256") {
    return memberError("crv", "must be \"P-256\"");
  }
  auto x = member(jwk, "x");
  if (!x) return sdk::Error{x.error()};
  auto y = member(jwk, "y");
  if (!y) return sdk::Error{y.error()};
  // RFC 7518 §6.2.1.2: coordinates are the full field size, 32 bytes for P-256.
  if (x->size() != 32) return memberError("x", "must be 32 bytes");
  if (y->size() != 32) return memberError("y", "must be 32 bytes");
  std::string point = "\x04" + *x + *y;  // SEC1 uncompressed point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return keyError("out of memory");
  }
  return fromData("EC", bld.get());
}

// The algorithm a JWK verifies, or nullopt when this filter does not handle it (skipped).
std::optional<JwtAlg> jwkAlg(const json& jwk, std::string_view kty) {
  std::optional<JwtAlg> by_type;
  if (kty == "RSA") by_type = JwtAlg::kRS256;
  if (kty == "EC") by_type = JwtAlg::kES256;
  if (kty == "oct") by_type = JwtAlg::kHS256;
  if (!by_type) return std::nullopt;
  auto alg = jwk.find("alg");
  if (alg == jwk.end()) return by_type;
  if (!alg->is_string()) return std::nullopt;
  // An RSA key published for PS256 only, say, is not ours to use for RS256.
  auto named = parseJwtAlg(alg->get_ref<const std::string&>());
  if (!named || *named != *by_type) return std::nullopt;
  return named;
}

sdk::Result<JwtKey> keyFromJwk(const json& jwk, JwtAlg alg, std::string kid) {
  if (alg == JwtAlg::kHS256) {
    auto k = member(jwk, "k");
    if (!k) return sdk::Error{k.error()};
    auto key = makeHmacKey(std::move(kid), std::move(*k));
    if (!key) return keyError(key.error());
    return key;
  }
  auto pkey = alg == JwtAlg::kRS256 ? rsaFromJwk(jwk) : ecFromJwk(jwk);
  if (!pkey) return sdk::Error{pkey.error()};
  auto key = makePublicKey(std::move(kid), alg, std::move(*pkey));
  if (!key) return keyError(key.error());
  return key;
}

}  // namespace

sdk::Result<std::vector<JwtKey>> parseJwks(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return sdk::Error{"not valid JSON"};
  if (!doc.is_object()) return sdk::Error{"must be a JSON object with \"keys\""};
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) return sdk::Error{"keys: must be a list"};
  std::vector<JwtKey> out;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& jwk = (*keys)[i];
    std::string where = "keys[" + std::to_string(i) + "]";
    if (!jwk.is_object()) return sdk::Error{where + ": must be an object"};
    auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) return sdk::Error{where + ".kty: missing string"};
    auto use = jwk.find("use");
    if (use != jwk.end() && *use != "sig") continue;  // encryption keys are not for us
    auto alg = jwkAlg(jwk, kty->get_ref<const std::string&>());
    if (!alg) continue;
    std::string kid;
    if (auto k = jwk.find("kid"); k != jwk.end()) {
      if (!k->is_string()) return sdk::Error{where + ".kid: must be a string"};
      kid = k->get<std::string>();
    }
    auto key = keyFromJwk(jwk, *alg, std::move(kid));
    if (!key) return sdk::Error{where + key.error()};
    out.push_back(std::move(*key));
  }
  if (out.empty()) return sdk::Error{"keys: no RS256, ES256 or HS256 signing key"};
  return out;
}

}  // namespace remora::auth
