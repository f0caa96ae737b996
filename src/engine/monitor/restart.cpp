#include "engine/monitor/restart.h"

namespace berth::monitor {

bool should_restart(const RestartPolicy& policy, int exit_code, unsigned restarts_so_far,
                    bool stop_requested) {
    if (stop_requested) return false;
    switch (policy.mode) {
        case RestartMode::kNo:
            return false;
        case RestartMode::kAlways:
        case RestartMode::kUnlessStopped:
            return true;
        case RestartMode::kOnFailure:
            if (exit_code == 0) return false;
            return policy.max_retries == 0 || restarts_so_far < policy.max_retries;
    }
    return false;
}

uint64_t BackOff::next_delay(uint64_t ran_ms) {
    if (ran_ms >= reset_after_ms_) last_ms_ = 0;
    if (last_ms_ == 0) {
        last_ms_ = base_ms_;
    } else {
        last_ms_ = last_ms_ > max_ms_ / 2 ? max_ms_ : last_ms_ * 2;
    }
    if (last_ms_ > max_ms_) last_ms_ = max_ms_;
    return last_ms_;
}

}  // namespace berth::monitor
