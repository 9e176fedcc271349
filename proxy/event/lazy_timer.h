#pragma once
// LazyTimer: a deadline that is cheap to move. Every request moves a connection's deadline
// (idle → request → idle, response timeouts pushed on every read); doing each move with
// event_add/event_del cost hundreds of instructions per request. Instead the libevent timer stays
// armed and, when it fires early, re-arms for the remainder; moving the deadline later is a
// store, and only moving it earlier touches libevent.

#include <event2/event.h>
#include <time.h>

#include <cstdint>

#include "common/c_handles.h"

namespace remora {

class LazyTimer {
 public:
  using Callback = void (*)(void* arg);

  LazyTimer(event_base* base, Callback cb, void* arg)
      : ev_(evtimer_new(base, onFire, this)), cb_(cb), arg_(arg) {}

  // Monotonic milliseconds, coarse (a few ms) but free of syscalls.
  static uint64_t nowMs() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
  }

  // Fires `ms` from now (ms == 0 cancels).
  void set(uint64_t ms) {
    if (ms == 0) return cancel();
    deadline_ = nowMs() + ms;
    if (!armed_ || deadline_ < armed_until_) arm(ms);
  }
  void cancel() { deadline_ = 0; }
  bool active() const { return deadline_ != 0; }
  // Fires on the next loop iteration.
  void fireSoon() {
    deadline_ = 1;
    event_active(ev_.get(), EV_TIMEOUT, 0);
  }

 private:
  void arm(uint64_t ms) {
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
    event_add(ev_.get(), &tv);
    armed_ = true;
    armed_until_ = deadline_;
  }

  static void onFire(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<LazyTimer*>(arg);
    self->armed_ = false;
    if (self->deadline_ == 0) return;
    uint64_t now = nowMs();
    if (now < self->deadline_) return self->arm(self->deadline_ - now);
    self->deadline_ = 0;
    self->cb_(self->arg_);
  }

  EventPtr ev_;
  Callback cb_;
  void* arg_;
  uint64_t deadline_ = 0;
  uint64_t armed_until_ = 0;
  bool armed_ = false;
};

}  // namespace remora
