#include "log_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <remora/sdk/host.h>

#include <algorithm>
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
  sleeping_ = false;
  queue_.bytes.reserve(kMaxBytes);
  queue_.segments.reserve(kMaxLines);
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

void LogWriter::tune(const void* owner, std::chrono::microseconds flush_interval,
                     size_t buffer_size) {
  std::lock_guard<std::mutex> lock(mu_);
  tunings_[owner] = {flush_interval, buffer_size};
  retune();
}

void LogWriter::untune(const void* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  tunings_.erase(owner);
  retune();
}

void LogWriter::retune() {
  if (tunings_.empty()) {
    flush_interval_ = kDefaultFlushInterval;
    buffer_size_ = kDefaultBufferSize;
    return;
  }
  flush_interval_ = std::chrono::microseconds::max();
  buffer_size_ = kMaxBytes;
  for (const auto& [owner, t] : tunings_) {
    flush_interval_ = std::min(flush_interval_, t.first);
    buffer_size_ = std::min(buffer_size_, t.second);
  }
}

bool LogWriter::enqueue(const std::shared_ptr<Sink>& sink, std::string_view line) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.lines >= kMaxLines || queue_.bytes.size() + line.size() > kMaxBytes) return false;
    bool was_empty = queue_.lines == 0;
    queue_.bytes.append(line);
    if (queue_.segments.empty() || queue_.segments.back().sink != sink) {
      queue_.segments.push_back(Segment{sink, line.size()});
    } else {
      queue_.segments.back().size += line.size();
    }
    ++queue_.lines;
    // A sleeping writer needs the first line of a batch (to start its flush timer) and a full
    // buffer; any other line rides along without a syscall. Clearing sleeping_ makes this the
    // only wake until the writer waits again.
    wake = sleeping_ && (was_empty || flushDue());
    if (wake) sleeping_ = false;
  }
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

void LogWriter::writeBatch(Batch& batch) {
  // Consecutive lines for one sink were merged into one segment: one write(2) each.
  std::string_view bytes = batch.bytes;
  for (const Segment& s : batch.segments) {
    s.sink->write(bytes.substr(0, s.size));
    bytes.remove_prefix(s.size);
  }
  // Dropping the segments may close a sink whose config is gone: fine on this thread.
  batch.segments.clear();
  batch.bytes.clear();
  batch.lines = 0;
}

void LogWriter::run() {
  Batch batch;
  batch.bytes.reserve(kMaxBytes);
  batch.segments.reserve(kMaxLines);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // Idle: sleep without a timeout until the first line of a batch (or stop, or reopen).
    sleeping_ = true;
    cv_.wait(lock, [&] { return queue_.lines != 0 || stopping_ || reopen_; });
    // Let the batch fill for one flush interval, unless the buffer fills first.
    sleeping_ = true;
    cv_.wait_until(lock, std::chrono::steady_clock::now() + flush_interval_,
                   [&] { return flushDue() || stopping_ || reopen_; });
    sleeping_ = false;
    bool reopen = std::exchange(reopen_, false);
    bool stopping = stopping_;
    // Swapping keeps both buffers' reserved capacity: no allocation under the mutex.
    std::swap(batch, queue_);
    lock.unlock();
    if (reopen) reopenAll();
    writeBatch(batch);
    lock.lock();
    if (stopping && queue_.lines == 0) return;
  }
}

}  // namespace remora::filters::access_log
