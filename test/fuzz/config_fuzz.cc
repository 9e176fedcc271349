// Fuzzes the config loader: any text must give a Config or an error message, never a crash or an
// exception, and a Config that loads must survive the GET /config round trip (toYaml, reload).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace remora::config;
  using remora::ConfigResult;
  const std::string text(reinterpret_cast<const char*>(data), size);
  ConfigResult<Config> loaded = loadFromString(text, "fuzz.yaml");
  if (!loaded) {
    if (loaded.error().empty()) {
      std::fprintf(stderr, "rejected without a message\n");
      std::abort();
    }
    return 0;
  }
  const std::string yaml = toYaml(*loaded);
  ConfigResult<Config> again = loadFromString(yaml, "round-trip.yaml");
  if (!again || !(*again == *loaded)) {
    std::fprintf(stderr, "round trip changed the config:\n%s\n%s\n", yaml.c_str(),
                 again ? "(loads, but differs)" : remora::toLines(again.error()).c_str());
    std::abort();
  }
  return 0;
}
