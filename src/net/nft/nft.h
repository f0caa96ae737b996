// A libnftables context: scripts run as one atomic transaction, errors come back as berth::Error
// with libnftables' own message, listings come back as JSON. Acts in the network namespace of
// the thread that created it (libnftables' netlink socket is bound there). libnftables is not
// linked: the first create() loads it with dlopen (ENOENT when it cannot), so a process that only
// adds and deletes elements (element_socket.h) never maps it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

struct nft_ctx;

namespace berth::net::nft {

using Json = nlohmann::json;

class Context {
  public:
    static Result<Context> create();

    // Runs the whole script (commands separated by newlines) as ONE transaction: the kernel
    // applies all of it or none of it. Errors: libnftables' message, errno guessed from it
    // (ENOENT, EEXIST, EBUSY, EPERM; EINVAL otherwise).
    Result<void> apply(std::string_view script);
    // Runs a `list ...` command and returns its JSON output.
    Result<Json> list(std::string_view command);

  private:
    struct Free {
        void operator()(nft_ctx* c) const;
    };
    explicit Context(nft_ctx* c) : ctx_(c) {}
    Result<std::string> run(std::string_view commands, bool json);
    std::unique_ptr<nft_ctx, Free> ctx_;
};

// The calling thread's context, created on its first call (so in the network namespace the thread
// is in then) and kept until the thread exits: a plugin pays for nft_ctx_new() once. Threads that
// change namespace after their first call must not use it.
Result<Context*> thread_context();

// Deleted set elements are freed one RCU grace period after the commit, and the kernel makes
// the release of an nf_tables socket wait for that (nft_rcv_nl_event, NETLINK_URELEASE): 5-17 ms
// at a plugin's exit. After a deletion, hand this process's sockets to a detached holder
// (base/detached_holder.h) so the wait is the holder's; the deletion itself is already
// committed and visible. Without a deletion noted (note_deletion()) there is nothing to wait
// for (element additions and timeout updates are freed at commit), and no holder is made.
Result<void> defer_socket_release();
// Records that this process committed a deletion of nftables objects or elements.
void note_deletion();

// thread_context() + apply(): one transaction in the calling thread's network namespace.
Result<void> apply(std::string_view script);

// The errno a libnftables error message stands for (see Context::apply).
int errno_of_message(std::string_view message);

}  // namespace berth::net::nft
