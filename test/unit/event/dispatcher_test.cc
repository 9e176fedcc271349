// Dispatcher::post under load: posted work (a config install) must not wait for every ready
// connection of a long loop pass. Connection events are stood in for by activated user events at
// the default priority, which is what a ready socket's event is.

#include "event/dispatcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace remora {
namespace {

constexpr int kPosted = -1;

struct Ready {
  std::vector<int>* order;
  int index;
  std::function<void()> also;
};

void onReady(evutil_socket_t, short, void* arg) {
  auto* r = static_cast<Ready*>(arg);
  r->order->push_back(r->index);
  if (r->also) r->also();
}

class DispatcherTest : public ::testing::Test {
 protected:
  // Activates `n` events at the default priority, in index order.
  void makeReady(int n) {
    ready_.resize(n);
    for (int i = 0; i < n; ++i) {
      ready_[i] = {&order_, i, nullptr};
      events_.emplace_back(event_new(d_.base(), -1, 0, onReady, &ready_[i]));
    }
  }
  void activateAll() {
    for (auto& ev : events_) event_active(ev.get(), EV_TIMEOUT, 0);
  }
  // Runs every active callback and any posted work, without blocking.
  void drain() { event_base_loop(d_.base(), EVLOOP_NONBLOCK); }
  long positionOfPosted() const {
    return std::find(order_.begin(), order_.end(), kPosted) - order_.begin();
  }

  Dispatcher d_;
  std::vector<int> order_;
  std::vector<Ready> ready_;
  std::vector<EventPtr> events_;
};

TEST_F(DispatcherTest, PostedWorkRunsBeforeEventsReadyInTheSamePass) {
  makeReady(40);
  activateAll();  // ready before the post: with one priority they would all run first
  d_.post([this] { order_.push_back(kPosted); });
  drain();
  ASSERT_EQ(order_.size(), 41u);
  EXPECT_EQ(positionOfPosted(), 0);
}

TEST_F(DispatcherTest, WorkPostedDuringALongPassWaitsForAtMostTheCap) {
  makeReady(64);
  // The first ready connection's callback posts, as the main thread would mid-pass.
  ready_[0].also = [this] { d_.post([this] { order_.push_back(kPosted); }); };
  activateAll();
  drain();
  ASSERT_EQ(order_.size(), 65u);
  // Without the cap the posted work would run after all 64.
  EXPECT_GE(positionOfPosted(), 1);
  EXPECT_LE(positionOfPosted(), Dispatcher::kMaxCallbacksPerPass);
  // Every connection event still ran, in order.
  std::vector<int> rest;
  for (int i : order_)
    if (i != kPosted) rest.push_back(i);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(rest[i], i);
}

}  // namespace
}  // namespace remora
