// process.terminal: a pty made inside the container (so it belongs to the container's devpts),
// its master handed to whoever listens on --console-socket, its slave as stdio.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/spec.h"

namespace berth::runtime {

// Parent side: connects to the console socket path.
Result<UniqueFd> connect_console_socket(const std::string& path);
// Child side, after pivot_root: opens a pty, sends the master on `socket`, and makes the
// slave the controlling terminal and stdio of the calling process.
Result<void> setup_console(BorrowedFd socket, const std::optional<oci::ConsoleSize>& size);
// Sends an fd with SCM_RIGHTS and a name as the payload (what runc's clients expect).
Result<void> send_fd(BorrowedFd socket, int fd, const std::string& name);
Result<UniqueFd> receive_fd(BorrowedFd socket);

}  // namespace berth::runtime
