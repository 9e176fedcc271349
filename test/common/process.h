#pragma once
// A child process started by a test: the real remora binary, the demo upstream, curl.
// Output goes to files in a private temp directory, so a chatty child never blocks on a full
// pipe and a test can read what it printed at any time.
//
// A Process only ever signals the PID it started, and only while that PID is not yet reaped
// (so it cannot have been reused). The destructor SIGKILLs a child still running and reaps it.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/temp_dir.h"

namespace remora::test {

struct ExitStatus {
  int code = -1;   // exit code if the process exited, else -1
  int signal = 0;  // the signal that terminated it, else 0
  bool exitedWith(int c) const { return signal == 0 && code == c; }
  std::string describe() const;
};

class Process {
 public:
  // argv[0] is the executable's path (no PATH search). With merge_stderr false, stderr goes to
  // its own file (errorOutput()) and output() is stdout alone.
  explicit Process(std::vector<std::string> argv, bool merge_stderr = true);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // False once the child has exited (reaps it).
  bool running();
  // Sends `sig` to the child; does nothing once it has been reaped.
  void kill(int sig);
  // Waits up to `timeout` for the child to exit; nullopt if it is still running.
  std::optional<ExitStatus> waitExit(std::chrono::milliseconds timeout);
  // Polls output() until it contains `needle`, the child exits, or `timeout` passes.
  bool waitForOutput(std::string_view needle, std::chrono::milliseconds timeout);

  std::string output() const;
  std::string errorOutput() const;
  const std::vector<std::string>& argv() const { return argv_; }

 private:
  bool reap(int options);

  std::vector<std::string> argv_;
  TempDir dir_;
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// Runs /usr/bin/curl with `args` (waits at most 60 s) and returns what it wrote to stdout.
// `exit_code`, when given, receives curl's exit code (-1 if it did not finish).
std::string curl(const std::vector<std::string>& args, int* exit_code = nullptr);

}  // namespace remora::test
