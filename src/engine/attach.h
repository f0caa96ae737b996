// The client side of berth-monitor's attach.sock (docs/engine-monitor.md): the task's live
// output, one SOCK_SEQPACKET packet per chunk with the stream in its first byte, and stdin
// going the other way (packets of at most kMaxInputPacket bytes; a half-close, shutdown
// SHUT_WR, is the end of our stdin and closes the container's).
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::engine {

// The monitor reads client packets into a buffer this big: a longer one would be cut.
inline constexpr size_t kMaxInputPacket = 4096;

// Connects to <task_dir>/attach.sock (through /proc/self/fd when the path is too long for
// sun_path). ECONNREFUSED/ENOENT when the monitor is gone.
Result<UniqueFd> connect_attach(const std::string& task_dir);

// A connected SOCK_SEQPACKET pair for Engine::start's StartAttach: `first` is ours, `second`
// the monitor's.
Result<FdPair> attach_socketpair();

enum class AttachEnd {
    kHangup,    // the monitor closed the socket: the task is over (or the monitor is gone)
    kDetached,  // the detach keys, or (without proxy_signals) SIGINT/SIGTERM/SIGHUP
};

struct AttachOptions {
    std::string task_dir;             // for ctl.sock: resize, kill
    bool forward_stdin = false;       // our stdin to the container
    bool close_stdin_at_eof = false;  // the end of ours closes the container's stdin
    // The container has a pty: our terminal (when stdin is one and forwarded) goes raw for the
    // session and is restored on every way out; our window size follows SIGWINCH.
    bool tty = false;
    bool send_initial_size = false;  // resize at once (attach; a start got it already)
    // Typed on our terminal, this sequence (parse_detach_keys) detaches; empty: never.
    std::string detach_keys;
    // SIGINT, SIGTERM, SIGHUP and SIGQUIT go to the container (docker's --sig-proxy) instead
    // of detaching.
    bool proxy_signals = false;
};

// Copies output to berth's stdout (stream 1) and stderr (2) and our stdin to the task until one
// of AttachEnd happens.
Result<AttachEnd> attach_session(BorrowedFd sock, const AttachOptions& options);

// The session of `berth attach` before -t and detach keys: kept for its callers.
Result<AttachEnd> attach_loop(BorrowedFd sock, bool forward_stdin, const std::string& task_dir,
                              bool close_stdin_at_eof);

}  // namespace berth::engine
