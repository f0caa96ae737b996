// For `run` and `exec` in the foreground with a terminal and no console socket: berth-runtime
// holds the pty master itself and copies between it and its own stdio, as runc does.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

class ConsoleListener {
  public:
    // Binds a listening socket at `path` (removed again when this object goes).
    static Result<ConsoleListener> create(const std::string& path);
    ~ConsoleListener();
    ConsoleListener(ConsoleListener&&) = default;
    const std::string& path() const { return path_; }
    Result<UniqueFd> receive_master();

  private:
    ConsoleListener() = default;
    UniqueFd sock_;
    std::string path_;
};

// Copies stdin to the master and the master to stdout until the process behind `pidfd`
// exits and the master is drained. Puts a terminal stdin in raw mode meanwhile.
Result<void> proxy_tty(BorrowedFd master, BorrowedFd pidfd);

}  // namespace berth::runtime
