// build_tag: a plugin built only for tests, twice from this one source (build_tag_a.so and
// build_tag_b.so, differing only in REMORA_BUILD_TAG). It stamps every response with
// `x-build: <tag>`, so a test that swaps one build for the other under load can tell which
// generation served each response. Its config may set `fail: true` to be refused.

#include <remora/sdk/config_reader.h>
#include <remora/sdk/filter.h>

#include <memory>
#include <string>

#ifndef REMORA_BUILD_TAG
#error "build with -DREMORA_BUILD_TAG=\"a\" (or another tag)"
#endif

namespace build_tag {

namespace sdk = remora::sdk;

struct Config {
  static std::unique_ptr<Config> create(const nlohmann::json& json, sdk::ConfigContext&,
                                        std::string& error) {
    if (!sdk::checkObject(json, "", {"fail"}, error)) return nullptr;
    if (json.value("fail", false)) {
      error = "fail: refused on request";
      return nullptr;
    }
    return std::make_unique<Config>();
  }
};

class Filter : public sdk::Filter {
 public:
  Filter(const Config&, sdk::Stream stream) : sdk::Filter(stream) {}

  sdk::Status onResponseHeaders(bool) override {
    stream().setResponseHeader("x-build", REMORA_BUILD_TAG);
    return sdk::Status::kContinue;
  }
};

}  // namespace build_tag

REMORA_FILTER_PLUGIN("build_tag", REMORA_BUILD_TAG, 500, build_tag::Config, build_tag::Filter)
