#pragma once
// Mirror: a live copy of one etcd key or key range, kept by a range read followed by a watch
// from the next revision. When etcd is down or restarts it retries with backoff and resumes the
// watch from the last revision seen + 1, so no change is missed and none is seen twice; when that
// revision was compacted away it reads the range again and watches from there. Main thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "common/c_handles.h"
#include "etcd/etcd_client.h"

namespace remora::etcd {

class Mirror {
 public:
  struct Entry {
    std::string value;
    int64_t mod_revision = 0;
  };
  using State = std::map<std::string, Entry>;
  // After the first read, each re-read and each batch of watch events: the whole state and the
  // store revision it reflects.
  using OnChange = std::function<void(const State& state, int64_t revision)>;

  // `range_end` empty: the single key `key`; else every key in [key, range_end).
  Mirror(Client& client, std::string key, std::string range_end, OnChange on_change);
  void start();

  const State& state() const { return state_; }
  bool connected() const { return watching_; }

 private:
  static void onRetry(evutil_socket_t, short, void* arg);
  void readRange();
  void startWatch();
  void onLine(const nlohmann::json& line);
  void retryLater(const std::string& why, bool reread);

  Client& client_;
  std::string key_;
  std::string range_end_;
  OnChange on_change_;
  State state_;
  int64_t last_revision_ = 0;  // every change up to here is in state_
  bool need_range_ = true;
  bool watching_ = false;
  Backoff backoff_;
  EventPtr retry_timer_;
  ExchangeHandle call_;
  ExchangeHandle watch_;
};

}  // namespace remora::etcd
