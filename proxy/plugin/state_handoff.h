#pragma once
// StateHandoff: moves plugin state (ABI 1.1 state_export → state_import) from the entries of the
// chain in service to the matching entries of the chain replacing it. Built on the main thread
// with the new chain; run by every worker while it installs the new snapshot — between two of
// its events, so no stream of that worker sees the state half moved — once per worker, because
// plugins keep such state per worker. The last worker to run it drops the old entries, so the
// hand-off does not keep an old build loaded.

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace remora::plugin {

struct FilterVariant;

class StateHandoff {
 public:
  struct Pair {
    std::shared_ptr<const void> keep_from;  // keeps `from` alive until every worker ran
    const FilterVariant* from;
    const FilterVariant* to;
  };

  StateHandoff(std::vector<Pair> pairs, size_t workers)
      : pairs_(std::move(pairs)), remaining_(workers) {}

  // Worker `worker`'s share; runs once per worker.
  void run(size_t worker);
  size_t size() const { return pairs_.size(); }

 private:
  std::vector<Pair> pairs_;
  std::atomic<size_t> remaining_;
};

}  // namespace remora::plugin
