#pragma once
// EventBus: publish/subscribe by topic between plugins and the kernel (plugins never call each
// other). A subscription remembers the thread that made it and is always delivered there, as a
// posted closure, so a subscriber never runs on a thread it did not expect. Not on the request
// path: a mutex guards the subscriber list.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "event/dispatcher.h"

namespace remora::plugin {

class EventBus {
 public:
  using Callback = std::function<void(const std::string& topic, const std::string& payload)>;

  // The dispatcher of the calling thread (main or a worker); set once per thread by the kernel.
  static void setThreadDispatcher(Dispatcher* d);
  static Dispatcher* threadDispatcher();

  uint64_t subscribe(const std::string& topic, Callback cb);
  void unsubscribe(uint64_t id);
  // Delivers to every subscriber of `topic` (and of "*") on its own thread.
  void publish(const std::string& topic, const std::string& payload);

 private:
  struct Sub {
    uint64_t id;
    std::string topic;
    Dispatcher* dispatcher;
    std::shared_ptr<Callback> cb;
    // Cleared by unsubscribe (on the subscriber's thread, where deliveries also run), so a
    // delivery already posted never reaches a subscriber that has gone.
    std::shared_ptr<bool> alive;
  };
  std::mutex mu_;
  std::vector<Sub> subs_;
  uint64_t next_id_ = 1;
};

}  // namespace remora::plugin
