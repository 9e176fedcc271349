#pragma once
// What the downstream HTTP/2 tests share: running the HTTP/2 clients (curl, nghttp, h2load and
// the raw frame client h2_frames.py) against a proxy and collecting what they printed.

#include <chrono>
#include <string>
#include <vector>

#include "common/harness.h"

namespace remora::test::h2 {

// Runs `argv` (argv[0] an absolute path) to completion, at most `timeout`; returns its stdout
// and stderr. `exited`, when given, receives whether it finished with exit code 0.
inline std::string run(const std::vector<std::string>& argv, bool* exited = nullptr,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  Process p(argv);
  auto status = p.waitExit(timeout);
  if (exited) *exited = status && status->exitedWith(0);
  return p.output();
}

inline std::string framesScript() {
  return std::string(REMORA_SOURCE_DIR) + "/test/integration/h2/h2_frames.py";
}

// One run of the raw frame client: its one-line verdict ("GOAWAY ENHANCE_YOUR_CALM 0", ...).
// `wait_s` bounds the wait for an answer (a verdict of TIMEOUT means none came).
inline std::string frames(uint16_t port, const std::string& mode, int count, int wait_s = 5) {
  std::string out = run({"/usr/bin/python3", framesScript(), std::to_string(port), mode,
                         std::to_string(count), std::to_string(wait_s)});
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// curl with prior-knowledge HTTP/2; `args` go before the URL.
inline std::string curlH2(const std::vector<std::string>& args, const std::string& url,
                          int* exit_code = nullptr) {
  std::vector<std::string> all = {"-s", "--http2-prior-knowledge"};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back(url);
  return curl(all, exit_code);
}

}  // namespace remora::test::h2
