// Owned and borrowed file descriptors. No implicit conversion to int: get() says when
// ownership is not transferred, release() when it is.
#pragma once

#include <unistd.h>

#include <utility>

#include "base/result.h"

namespace berth {

class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        reset(o.release());
        return *this;
    }
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    explicit operator bool() const { return valid(); }
    [[nodiscard]] int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

// A descriptor somebody else owns; what a parameter takes when it does not keep the fd.
class BorrowedFd {
  public:
    BorrowedFd(int fd) : fd_(fd) {}  // NOLINT: implicit by design, like string_view
    BorrowedFd(const UniqueFd& fd) : fd_(fd.get()) {}  // NOLINT
    int get() const { return fd_; }

  private:
    int fd_;
};

void close(UniqueFd&) = delete;

struct FdPair {
    UniqueFd first;   // read end for pipes
    UniqueFd second;  // write end for pipes
};

Result<FdPair> make_pipe(int flags = 0);
Result<FdPair> make_socketpair(int type);
Result<UniqueFd> open_fd(const std::string& path, int flags, mode_t mode = 0);
Result<UniqueFd> open_at(BorrowedFd dir, const std::string& path, int flags, mode_t mode = 0);

}  // namespace berth
