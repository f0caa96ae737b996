// The client side of berth-monitor's attach.sock (docs/engine-monitor.md): the task's live
// output, one SOCK_SEQPACKET packet per chunk with the stream in its first byte, and stdin
// going the other way.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::engine {

// Connects to <task_dir>/attach.sock (through /proc/self/fd when the path is too long for
// sun_path). ECONNREFUSED/ENOENT when the monitor is gone.
Result<UniqueFd> connect_attach(const std::string& task_dir);

enum class AttachEnd {
    kHangup,    // the monitor closed the socket: the task is over (or the monitor is gone)
    kDetached,  // SIGINT/SIGTERM/SIGHUP reached us: the container keeps running
};

// Copies output to berth's stdout (stream 1) and stderr (2) and, when forward_stdin, berth's
// stdin to the task (until stdin's end, after which `close-stdin` is sent on ctl.sock when
// close_stdin_at_eof) until one of AttachEnd happens.
Result<AttachEnd> attach_loop(BorrowedFd sock, bool forward_stdin, const std::string& task_dir,
                              bool close_stdin_at_eof);

}  // namespace berth::engine
