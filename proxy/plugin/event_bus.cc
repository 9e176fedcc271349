#include "plugin/event_bus.h"

#include <algorithm>

namespace remora::plugin {
namespace {

thread_local Dispatcher* t_dispatcher = nullptr;

}  // namespace

void EventBus::setThreadDispatcher(Dispatcher* d) {
  t_dispatcher = d;
}
Dispatcher* EventBus::threadDispatcher() {
  return t_dispatcher;
}

uint64_t EventBus::subscribe(const std::string& topic, Callback cb) {
  std::lock_guard<std::mutex> g(mu_);
  uint64_t id = next_id_++;
  subs_.push_back({id, topic, t_dispatcher, std::make_shared<Callback>(std::move(cb)),
                   std::make_shared<bool>(true)});
  return id;
}

void EventBus::unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> g(mu_);
  for (Sub& s : subs_)
    if (s.id == id) *s.alive = false;
  subs_.erase(std::remove_if(subs_.begin(), subs_.end(), [id](const Sub& s) { return s.id == id; }),
              subs_.end());
}

void EventBus::publish(const std::string& topic, const std::string& payload) {
  std::vector<Sub> targets;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const Sub& s : subs_)
      if (s.topic == topic || s.topic == "*") targets.push_back(s);
  }
  for (const Sub& s : targets) {
    auto cb = s.cb;
    auto alive = s.alive;
    if (s.dispatcher == nullptr) {
      (*cb)(topic, payload);  // a thread without a loop (tests): deliver inline
      continue;
    }
    s.dispatcher->post([cb, alive, topic, payload] {
      if (*alive) (*cb)(topic, payload);
    });
  }
}

}  // namespace remora::plugin
