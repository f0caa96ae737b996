// Waiting on a foreground container process: signals sent to berth-runtime are passed on to
// it, a held pty master is proxied, and its exit status is returned.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

class ForegroundSignals {
  public:
    static Result<ForegroundSignals> block();
    ForegroundSignals(ForegroundSignals&&) = default;
    ~ForegroundSignals();
    int fd() const { return fd_.get(); }

  private:
    ForegroundSignals() = default;
    UniqueFd fd_;
    sigset_t old_{};
    bool active_ = false;
};

// Waits for `pid` (our child), forwarding signals; with a master, proxies the terminal.
Result<int> wait_foreground(pid_t pid, ForegroundSignals& signals, const UniqueFd& master);

}  // namespace berth::runtime
