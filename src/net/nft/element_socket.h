// Sends element batches (element_wire.h) to nf_tables over a NETLINK_NETFILTER socket of the
// calling thread's network namespace, and waits for every set message's acknowledgement.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/nft/element_wire.h"

namespace berth::net::nft {

// Encodes and sends one transaction; nothing to send is success. The kernel's errno comes back
// (ENOENT: no such table or set, or, on delete, no such element; EEXIST: a map key holding
// another value), with the table and set named. The socket is the thread's, opened on first use
// in the namespace the thread is in then (like thread_context()), and kept open until the
// thread exits, so defer_socket_release() hands it to the holder too.
Result<void> send_elements(const StaticTable& table, std::string_view tag,
                           const std::vector<Element>& elements, ElementOp op);

// Per tagged element of `elements` (in order): its comment when the set holds its key, nullopt
// when not (no such element, set or table). One NFT_MSG_GETSETELEM each, sent in chunks whose
// answers fit the socket's receive buffer.
Result<std::vector<std::optional<std::string>>> query_elements(
    const StaticTable& table, const std::vector<Element>& elements);

}  // namespace berth::net::nft
