// Fuzzes Http1Parser on responses, as UpstreamConnection drives it: random read boundaries,
// answers to HEAD, EOF ending a close-delimited body, interim responses. Aborts on a breach of the
// parser's contract or when a split parse and a one-shot parse disagree (see http1_fuzz_util.h).

#include <cstddef>
#include <cstdint>

#include "http1_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  remora::http::fuzz::fuzzOne(remora::http::Http1Parser::Kind::kResponse, data, size);
  return 0;
}
