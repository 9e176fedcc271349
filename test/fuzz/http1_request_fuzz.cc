// Fuzzes Http1Parser on requests: random bytes, random read boundaries, pauses between pipelined
// requests. Aborts on a breach of the parser's contract or when a split parse and a one-shot parse
// of the same bytes disagree (see http1_fuzz_util.h for the input layout).

#include <cstddef>
#include <cstdint>

#include "http1_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  remora::http::fuzz::fuzzOne(remora::http::Http1Parser::Kind::kRequest, data, size);
  return 0;
}
