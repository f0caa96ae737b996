// Listening unix sockets in the task directory. A task dir deep enough to overflow sun_path
// (108 bytes) is reached through /proc/self/fd/<dirfd>/, as conmon does.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::monitor {

// socket(AF_UNIX, type|SOCK_CLOEXEC|SOCK_NONBLOCK) bound at path (an old socket file there is
// replaced) and listening.
Result<UniqueFd> listen_unix(const std::string& path, int type);
// accept4 with SOCK_CLOEXEC|SOCK_NONBLOCK; an invalid fd (no error) when nobody is waiting.
Result<UniqueFd> accept_unix(BorrowedFd listener);

}  // namespace berth::monitor
