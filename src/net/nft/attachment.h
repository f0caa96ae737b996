// Which CNI attachment (container ID + interface name) an nftables rule belongs to. Every rule
// berth adds carries the attachment's tag as its comment, so DEL, CHECK and GC find the rules of
// one attachment without keeping any state of their own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::net::nft {

struct AttachmentId {
    std::string container_id;
    std::string ifname;

    friend bool operator==(const AttachmentId&, const AttachmentId&) = default;
};

// The comment carried by the attachment's rules: "berth:<container_id>:<ifname>" when both are
// made of [A-Za-z0-9_.-] and the whole fits nft's 128-byte comment limit; otherwise
// "berth:h:<16 hex digits>" (a hash of both). Always safe to put inside double quotes.
std::string attachment_tag(const AttachmentId& id);
// True for any tag attachment_tag produces (a rule berth owns).
bool is_attachment_tag(std::string_view comment);

}  // namespace berth::net::nft
