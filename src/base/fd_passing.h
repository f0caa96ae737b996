// sendmsg/recvmsg with at most one descriptor attached (SCM_RIGHTS): the sync channel and
// the console socket both speak it.
#pragma once

#include <sys/uio.h>

#include <cstddef>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth {

// Sends the iovecs as one message; pass_fd < 0 sends no descriptor.
Result<size_t> send_with_fd(BorrowedFd sock, const struct iovec* iov, size_t iovlen, int pass_fd);
// Receives one message into the iovecs; a passed descriptor lands in *fd (close-on-exec),
// or is closed when fd is null. Returns the byte count; 0 is end of stream.
Result<size_t> receive_with_fd(BorrowedFd sock, struct iovec* iov, size_t iovlen, UniqueFd* fd);

}  // namespace berth
