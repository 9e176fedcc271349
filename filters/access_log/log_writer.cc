#include "log_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <remora/sdk/host.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace remora::filters::access_log {

namespace {

int openForAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

bool isStdout(const std::string& path) {
  return path == "stdout" || path == "-" || path == "/dev/stdout";
}

}  // namespace

// --- Sink -------------------------------------------------------------------------------------

std::shared_ptr<Sink> Sink::open(const std::string& path, std::string& error) {
  if (isStdout(path)) return std::shared_ptr<Sink>(new Sink(path, STDOUT_FILENO, false));
  int fd = openForAppend(path);
  if (fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  return std::shared_ptr<Sink>(new Sink(path, fd, true));
}

Sink::~Sink() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

void Sink::write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!failing_) {
        sdk::log(sdk::LogLevel::kError,
                 "access_log: writing '" + path_ + "' failed: " + std::strerror(errno));
      }
      failing_ = true;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  failing_ = false;
}

void Sink::reopen() {
  if (!owned_) return;
  int fd = openForAppend(path_);
  if (fd < 0) {
    sdk::log(sdk::LogLevel::kError,
             "access_log: reopening '" + path_ +
                 "' failed, still writing the old file: " + std::strerror(errno));
    return;
  }
  ::close(fd_);
  fd_ = fd;
}

// --- LogWriter --------------------------------------------------------------------------------

LogWriter& LogWriter::instance() {
  static LogWriter writer;
  return writer;
}

LogWriter::~LogWriter() {
  stop();
}

void LogWriter::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  queue_.reserve(kMaxLines);
  thread_ = std::thread([this] { run(); });
}

void LogWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  thread_ = std::thread();
}

bool LogWriter::enqueue(const std::shared_ptr<Sink>& sink, std::string&& line) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxLines || queued_bytes_ + line.size() > kMaxBytes) return false;
    queued_bytes_ += line.size();
    wake = queue_.empty();
    queue_.push_back(Entry{sink, std::move(line)});
  }
  // Only the first line of a batch wakes the writer: the rest ride along.
  if (wake) cv_.notify_one();
  return true;
}

void LogWriter::requestReopen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

std::shared_ptr<Sink> LogWriter::sink(const std::string& path, std::string& error) {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  std::weak_ptr<Sink>& slot = sinks_[path];
  if (std::shared_ptr<Sink> existing = slot.lock()) return existing;
  std::shared_ptr<Sink> s = Sink::open(path, error);
  if (s) slot = s;
  // Forget paths no config holds any more.
  std::erase_if(sinks_, [](const auto& e) { return e.second.expired(); });
  return s;
}

void LogWriter::reopenAll() {
  std::vector<std::shared_ptr<Sink>> live;
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    for (auto& [path, weak] : sinks_) {
      if (std::shared_ptr<Sink> s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (const auto& s : live) s->reopen();
}

void LogWriter::writeBatch(std::vector<Entry>& batch) {
  // Consecutive lines for one sink go out in one write(2) (up to 64 KiB at a time).
  constexpr size_t kChunk = 64 * 1024;
  std::string buf;
  buf.reserve(kChunk);
  Sink* current = nullptr;
  for (Entry& e : batch) {
    if (e.sink.get() != current || buf.size() + e.line.size() > kChunk) {
      if (current != nullptr && !buf.empty()) current->write(buf);
      buf.clear();
      current = e.sink.get();
    }
    buf += e.line;
  }
  if (current != nullptr && !buf.empty()) current->write(buf);
  // Dropping the entries may close a sink whose config is gone: fine on this thread.
  batch.clear();
}

void LogWriter::run() {
  std::vector<Entry> batch;
  batch.reserve(kMaxLines);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !queue_.empty() || stopping_ || reopen_; });
    bool reopen = std::exchange(reopen_, false);
    bool stopping = stopping_;
    batch.swap(queue_);
    queued_bytes_ = 0;
    lock.unlock();
    if (reopen) reopenAll();
    writeBatch(batch);
    lock.lock();
    if (stopping && queue_.empty()) return;
  }
}

}  // namespace remora::filters::access_log
