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
    // Binds a listening socket at `path` (removed again when this object goes). A path too
    // long for sockaddr_un (108 bytes: a deep --root and a 64-digit id) is reached through
    // /proc/self/fd/N of its directory, which this object keeps open.
    static Result<ConsoleListener> create(const std::string& path);
    ~ConsoleListener();
    ConsoleListener(ConsoleListener&&) = default;
    // What this process connects to: `path`, or its short /proc/self/fd form.
    const std::string& path() const { return connect_path_; }
    Result<UniqueFd> receive_master();

  private:
    ConsoleListener() = default;
    UniqueFd sock_;
    UniqueFd dir_;              // set when connect_path_ goes through /proc/self/fd
    std::string path_;          // the socket's real path, unlinked at the end
    std::string connect_path_;  // path_, or /proc/self/fd/<dir_>/<name>
};

// Copies stdin to the master and the master to stdout until the process behind `pidfd`
// exits and the master is drained. Puts a terminal stdin in raw mode meanwhile.
Result<void> proxy_tty(BorrowedFd master, BorrowedFd pidfd);

}  // namespace berth::runtime
