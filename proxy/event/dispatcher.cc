#include "event/dispatcher.h"

#include <sys/eventfd.h>

#include "common/assert.h"

namespace remora {

Dispatcher::Dispatcher()
    : scratch_(new char[kScratchSize]),
      rng_state_((uint64_t(std::random_device{}()) << 32) ^ std::random_device{}()) {
  event_config* cfg = event_config_new();
  // The loop never runs callbacks from other threads, so libevent's lock hooks stay off.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  // A loaded worker finds dozens of connections ready per pass. Capping a pass at
  // kMaxCallbacksPerPass callbacks of priority >= kDefaultPriority sends the loop back to
  // epoll_wait sooner, where it sees the wake-up eventfd; the posted work then runs first
  // (priority 0). The cap costs one more epoll_wait per kMaxCallbacksPerPass ready events.
  event_config_set_max_dispatch_interval(cfg, nullptr, kMaxCallbacksPerPass, kDefaultPriority);
  base_.reset(event_base_new_with_config(cfg));
  event_config_free(cfg);
  REMORA_ASSERT(base_);
  // Two priorities: posted closures (config installs, endpoint updates, drain) run before the
  // connection events that were ready in the same pass. Events default to priority
  // kPriorities / 2 == kDefaultPriority, so connections, timers and listeners need no change.
  const int prioritized = event_base_priority_init(base(), kPriorities);
  REMORA_ASSERT(prioritized == 0);
  wake_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  REMORA_ASSERT(wake_fd_.valid());
  wake_event_.reset(event_new(base(), wake_fd_.get(), EV_READ | EV_PERSIST, onWake, this));
  event_priority_set(wake_event_.get(), kPostedPriority);
  event_add(wake_event_.get(), nullptr);
  deferred_event_.reset(event_new(base(), -1, 0, onDeferred, this));
}

Dispatcher::~Dispatcher() {
  deferred_.clear();
}

void Dispatcher::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> g(mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t rc = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)rc;  // EAGAIN means the counter is already non-zero: a wake-up is pending anyway
}

void Dispatcher::onWake(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<Dispatcher*>(arg);
  uint64_t n;
  ssize_t rc = ::read(fd, &n, sizeof(n));
  (void)rc;
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> g(self->mu_);
    work.swap(self->posted_);
  }
  for (auto& fn : work) fn();
}

void Dispatcher::deferDelete(std::unique_ptr<Deferrable> obj) {
  if (deferred_.empty()) event_active(deferred_event_.get(), EV_TIMEOUT, 0);
  deferred_.push_back(std::move(obj));
}

void Dispatcher::onDeferred(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Dispatcher*>(arg);
  // Destructors may defer more objects; loop until nothing is left.
  while (!self->deferred_.empty()) {
    std::vector<std::unique_ptr<Deferrable>> batch;
    batch.swap(self->deferred_);
    batch.clear();
  }
}

void Dispatcher::run() {
  owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  event_base_loop(base(), 0);
}

void Dispatcher::exit() {
  event_base_loopexit(base(), nullptr);
}

}  // namespace remora
