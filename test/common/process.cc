#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace remora::test {

std::string ExitStatus::describe() const {
  if (signal != 0) return "killed by signal " + std::to_string(signal);
  if (code >= 0) return "exited with code " + std::to_string(code);
  return "still running";
}

Process::Process(std::vector<std::string> argv, bool merge_stderr)
    : argv_(std::move(argv)), out_path_(dir_.file("stdout.log")) {
  if (argv_.empty()) throw std::invalid_argument("Process: empty argv");
  if (!merge_stderr) err_path_ = dir_.file("stderr.log");
  int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = merge_stderr ? out : ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || err < 0 || in < 0) {
    throw std::runtime_error(std::string("Process: cannot open capture files: ") +
                             std::strerror(errno));
  }
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<char*> cargv;
  for (auto& a : argv_) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const char kExecFailed[] = "Process: execv failed\n";
  pid_t parent = getpid();

  pid_ = fork();
  if (pid_ == 0) {
    // A crashed or killed test binary must not leave servers running behind it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execv(cargv[0], cargv.data());
    ssize_t ignored = write(2, kExecFailed, sizeof(kExecFailed) - 1);
    (void)ignored;
    _exit(127);
  }
  int fork_errno = errno;
  ::close(in);
  ::close(out);
  if (err != out) ::close(err);
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    reap(0);
  }
}

bool Process::reap(int options) {
  int st = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &st, options);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  ExitStatus s;
  if (WIFEXITED(st)) s.code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) s.signal = WTERMSIG(st);
  status_ = s;
  return true;
}

bool Process::running() {
  if (status_) return false;
  return !reap(WNOHANG);
}

void Process::kill(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<ExitStatus> Process::waitExit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

bool Process::waitForOutput(std::string_view needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (output().find(needle) != std::string::npos) return true;
    if (!running() || std::chrono::steady_clock::now() >= deadline) {
      return output().find(needle) != std::string::npos;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Process::output() const {
  return readFile(out_path_);
}

std::string Process::errorOutput() const {
  return err_path_.empty() ? std::string() : readFile(err_path_);
}

std::string curl(const std::vector<std::string>& args, int* exit_code) {
  std::vector<std::string> argv{"/usr/bin/curl"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(std::move(argv), /*merge_stderr=*/false);
  auto st = p.waitExit(std::chrono::seconds(60));
  if (exit_code != nullptr) *exit_code = st ? st->code : -1;
  return p.output();
}

}  // namespace remora::test
