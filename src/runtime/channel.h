// The sync channel between berth-runtime and the processes it clones: one SOCK_SEQPACKET
// socketpair, typed messages, errors carried with their full text, fds by SCM_RIGHTS.
// Each wait names the message it expects; anything else is an "unexpected" error.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

enum class Msg : uint32_t {
    Go = 1,          // parent -> child: id maps written; carry on (exec: cgroup joined too)
    Pid,             // intermediate -> parent: the init's pid in the host pid namespace
    RunCreateHooks,  // child -> parent: namespaces and mounts ready, before pivot_root
    HooksDone,       // parent -> child
    Ready,           // child -> parent: waiting for `start`
    Error,           // either way: value is errno, text is the message
    CgroupJoined,    // parent -> container init, after Go: the init is in its cgroups
    Created,         // parent -> init after Ready: state saved; the init unties its life from
                     // create's and closes the channel (the parent waits for that EOF)
};

const char* msg_name(Msg m);

struct Message {
    Msg type{};
    int64_t value = 0;
    std::string text;
};

class Channel {
  public:
    Channel() = default;
    explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}
    int fd() const { return fd_.get(); }
    void close() { fd_.reset(); }

    Result<void> send(Msg type, int64_t value = 0, std::string_view text = {}, int pass_fd = -1);
    Result<void> send_error(const berth::Error& e);
    // Receives one message; an Error message from the peer becomes this call's error.
    Result<Message> receive(UniqueFd* received_fd = nullptr);
    // Receives and checks the type: "unexpected X while waiting for Y". EOF means the peer
    // died: "peer exited while waiting for Y".
    Result<Message> expect(Msg type, UniqueFd* received_fd = nullptr);

  private:
    UniqueFd fd_;
};

}  // namespace berth::runtime
