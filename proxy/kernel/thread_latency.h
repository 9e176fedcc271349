#pragma once
// Scheduling hint for a thread that sleeps most of the time and must answer promptly when woken.

namespace remora {

// Asks the kernel for the shortest time slice for the calling thread (sched_setattr's
// sched_runtime under SCHED_OTHER). Linux's EEVDF scheduler (6.12 and later) gives a thread with
// a short slice an earlier deadline, so when it wakes it preempts a busy thread instead of
// waiting out that thread's slice; its share of the CPU is unchanged. Older kernels ignore the
// field. Threads the caller starts afterwards keep the default slice. Returns false if refused.
bool requestShortSlice();

}  // namespace remora
