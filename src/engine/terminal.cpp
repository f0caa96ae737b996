#include "engine/terminal.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace berth::engine {

std::optional<WindowSize> window_size(BorrowedFd fd) {
    struct winsize ws {};
    if (::ioctl(fd.get(), TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) {
        return std::nullopt;
    }
    return WindowSize{ws.ws_row, ws.ws_col};
}

Result<RawTerminal> RawTerminal::enter(BorrowedFd fd) {
    struct termios saved;
    if (::tcgetattr(fd.get(), &saved) != 0) return ErrnoError() << "tcgetattr";
    struct termios raw = saved;
    // The container's pty does the line discipline (echo, ^C, CR LF): ours passes bytes.
    ::cfmakeraw(&raw);
    int rc;
    do rc = ::tcsetattr(fd.get(), TCSADRAIN, &raw);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoError() << "tcsetattr";
    return RawTerminal(fd.get(), saved);
}

void RawTerminal::restore() {
    if (!active_) return;
    active_ = false;
    int rc;
    do rc = ::tcsetattr(fd_, TCSADRAIN, &saved_);
    while (rc != 0 && errno == EINTR);
}

}  // namespace berth::engine
