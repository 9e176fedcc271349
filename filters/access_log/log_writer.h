#pragma once
// The access log's writer thread: workers hand finished lines to a bounded queue and never touch
// a file descriptor; one thread per plugin drains the queue into files (or stdout).
//
// Why: a write(2) to a slow disk, a full pipe or a stuck log collector must not stall a worker's
// event loop. The queue is bounded (kMaxLines lines and kMaxBytes bytes); when it is full the line
// is dropped and the caller counts it, so a stuck output costs log lines, never latency. The
// queue's mutex is held only to move a string into a vector whose capacity was reserved up front,
// so a worker never waits on I/O or on an allocation under it.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

  // The plugin's one writer.
  static LogWriter& instance();
  ~LogWriter();

  // Main thread (plugin start/stop). stop() writes what is queued, then joins the thread.
  void start();
  void stop();

  // Worker thread: queues `line` (which should end in '\n') for `sink`. False when the buffer is
  // full: the line was dropped.
  bool enqueue(const std::shared_ptr<Sink>& sink, std::string&& line);

  // Any thread: every sink reopens its file before the next batch is written.
  void requestReopen();

  // Main thread (config time): the shared sink for `path`, opened if no config holds it yet, so
  // two configs logging to one file share one descriptor and never interleave partial writes.
  std::shared_ptr<Sink> sink(const std::string& path, std::string& error);

 private:
  struct Entry {
    std::shared_ptr<Sink> sink;
    std::string line;
  };

  LogWriter() = default;
  void run();
  void writeBatch(std::vector<Entry>& batch);
  void reopenAll();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  bool reopen_ = false;
  std::thread thread_;

  std::mutex sinks_mu_;
  std::map<std::string, std::weak_ptr<Sink>> sinks_;
};

}  // namespace remora::filters::access_log
