#pragma once
// The access log's writer thread: workers hand finished lines to a bounded queue and never touch
// a file descriptor; one thread per plugin drains the queue into files (or stdout).
//
// Why: a write(2) to a slow disk, a full pipe or a stuck log collector must not stall a worker's
// event loop. The queue is bounded (kMaxLines lines and kMaxBytes bytes); when it is full the line
// is dropped and the caller counts it, so a stuck output costs log lines, never latency. The
// queue's mutex is held only to copy a line into a byte buffer whose capacity was reserved up
// front, so a worker never waits on I/O or on an allocation under it.
//
// Batching: a worker wakes the writer only for the first line of a batch (or when the batch
// reaches the buffer threshold), and only if the writer is asleep. The writer then lets lines
// accumulate for up to the flush interval and writes each sink's lines in one write(2), so under
// load a request costs neither a futex wake nor a write of its own (like nginx's buffer=/flush=).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace remora::filters::access_log {

// One output: a file opened for append, or stdout. Written and reopened only by the writer
// thread; created on the main thread (config time) so a bad path rejects the config.
class Sink {
 public:
  // "stdout", "-" and "/dev/stdout" mean the process's stdout (never closed or reopened).
  static std::shared_ptr<Sink> open(const std::string& path, std::string& error);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  const std::string& path() const { return path_; }
  // Writer thread: writes all of `data` (retrying short writes); logs the first failure of a run.
  void write(std::string_view data);
  // Writer thread: reopens the path (after logrotate moved the file away). Keeps the old file
  // open if the new one cannot be opened.
  void reopen();

 private:
  Sink(std::string path, int fd, bool owned) : path_(std::move(path)), fd_(fd), owned_(owned) {}

  std::string path_;
  int fd_;
  bool owned_;
  bool failing_ = false;
};

class LogWriter {
 public:
  static constexpr size_t kMaxLines = 8192;
  static constexpr size_t kMaxBytes = 4u << 20;
  static constexpr std::chrono::microseconds kDefaultFlushInterval{100000};
  static constexpr size_t kDefaultBufferSize = 64 * 1024;

  // The plugin's one writer.
  static LogWriter& instance();
  ~LogWriter();

  // Main thread (plugin start/stop). stop() writes what is queued, then joins the thread.
  void start();
  void stop();

  // Worker thread: copies `line` (which should end in '\n') into the queue for `sink`. False
  // when the buffer is full: the line was dropped.
  bool enqueue(const std::shared_ptr<Sink>& sink, std::string_view line);

  // Main thread (config time): the writer flushes a batch once its oldest line is
  // `flush_interval` old or it holds `buffer_size` bytes. One writer serves every config, so it
  // uses the smallest values among the live configs (`owner` identifies one; untune on its
  // destruction), and the defaults when there is none.
  void tune(const void* owner, std::chrono::microseconds flush_interval, size_t buffer_size);
  void untune(const void* owner);

  // Any thread: every sink reopens its file before the next batch is written.
  void requestReopen();

  // Main thread (config time): the shared sink for `path`, opened if no config holds it yet, so
  // two configs logging to one file share one descriptor and never interleave partial writes.
  std::shared_ptr<Sink> sink(const std::string& path, std::string& error);

 private:
  // Consecutive lines for one sink: `size` bytes of the batch's byte buffer.
  struct Segment {
    std::shared_ptr<Sink> sink;
    size_t size;
  };
  struct Batch {
    std::string bytes;
    std::vector<Segment> segments;
    size_t lines = 0;
  };

  LogWriter() = default;
  void run();
  void writeBatch(Batch& batch);
  void reopenAll();
  bool flushDue() const { return queue_.bytes.size() >= buffer_size_; }

  std::mutex mu_;
  std::condition_variable cv_;
  Batch queue_;
  // The writer is (about to be) waiting on cv_: only then is a notify worth a syscall.
  bool sleeping_ = false;
  bool stopping_ = false;
  bool reopen_ = false;
  void retune();  // under mu_: the effective values from tunings_

  std::map<const void*, std::pair<std::chrono::microseconds, size_t>> tunings_;
  std::chrono::microseconds flush_interval_ = kDefaultFlushInterval;
  size_t buffer_size_ = kDefaultBufferSize;
  std::thread thread_;

  std::mutex sinks_mu_;
  std::map<std::string, std::weak_ptr<Sink>> sinks_;
};

}  // namespace remora::filters::access_log
