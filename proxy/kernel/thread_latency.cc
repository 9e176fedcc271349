#include "kernel/thread_latency.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace remora {
namespace {

// struct sched_attr (SCHED_ATTR_SIZE_VER0): glibc before 2.41 neither declares it nor wraps the
// system calls.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

constexpr uint64_t kResetOnFork = 0x01;         // SCHED_FLAG_RESET_ON_FORK
constexpr uint64_t kShortestSliceNs = 100'000;  // the kernel clamps to [0.1 ms, 100 ms]

}  // namespace

bool requestShortSlice() {
  SchedAttr attr{};
  // Read first: policy and nice value stay as they are (lowering nice would need privilege).
  if (::syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) return false;
  if (attr.sched_policy != 0) return true;  // not SCHED_OTHER: someone chose a policy on purpose
  attr.size = sizeof(attr);
  attr.sched_flags = kResetOnFork;  // workers and helper threads started later are not affected
  attr.sched_runtime = kShortestSliceNs;
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

}  // namespace remora
