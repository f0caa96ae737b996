// Our own terminal while attached to a container's pty: raw mode (every key goes to the
// container, its line discipline does the rest) and the window size to pass on.
#pragma once

#include <termios.h>

#include <optional>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::engine {

struct WindowSize {
    unsigned short rows = 0;
    unsigned short cols = 0;
};

// The terminal's size; nullopt when fd is no terminal (or reports 0x0).
std::optional<WindowSize> window_size(BorrowedFd fd);

// Puts a terminal in raw mode and restores its settings when destroyed (or by restore()).
class RawTerminal {
  public:
    // ENOTTY when fd is no terminal.
    static Result<RawTerminal> enter(BorrowedFd fd);
    RawTerminal(RawTerminal&& o) noexcept : fd_(o.fd_), saved_(o.saved_), active_(o.active_) {
        o.active_ = false;
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;
    RawTerminal& operator=(RawTerminal&&) = delete;
    ~RawTerminal() { restore(); }
    void restore();

  private:
    RawTerminal(int fd, const struct termios& saved) : fd_(fd), saved_(saved), active_(true) {}
    int fd_;
    struct termios saved_;
    bool active_;
};

}  // namespace berth::engine
