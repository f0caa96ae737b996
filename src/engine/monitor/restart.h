// The restart policy's decision and kubelet's crash-loop back-off: 10 s, doubling to a 5 minute
// cap, back to the base once the task has run for 10 minutes. Pure logic: no clock, no I/O.
#pragma once

#include <cstdint>

#include "engine/monitor/options.h"

namespace berth::monitor {

// Whether a task that ended with exit_code (shell status: 128+N for a signal) is started
// again, given how often it already was and whether somebody asked it to stop.
bool should_restart(const RestartPolicy& policy, int exit_code, unsigned restarts_so_far,
                    bool stop_requested);

class BackOff {
  public:
    BackOff(uint64_t base_ms, uint64_t max_ms, uint64_t reset_after_ms)
        : base_ms_(base_ms), max_ms_(max_ms), reset_after_ms_(reset_after_ms) {}

    // The delay before the next start, for a task that has just ended after running ran_ms.
    uint64_t next_delay(uint64_t ran_ms);

  private:
    uint64_t base_ms_;
    uint64_t max_ms_;
    uint64_t reset_after_ms_;
    uint64_t last_ms_ = 0;  // 0: no delay given since the last reset
};

}  // namespace berth::monitor
