// A table berth owns for one network and one feature (masquerade, MAC spoof check, port maps),
// laid out the way kube-proxy's nftables mode is: static chains and rules that never change after
// creation, and per-attachment state held only as ELEMENTS of the table's sets and maps, each
// carrying its attachment's tag (attachment.h) as the element comment.
//
// Every ADD and DEL is O(1) and one transaction, with no listing and no lock (and, in the
// common case, without libnftables: element_wire.h):
//   ADD  `add element` only (idempotent for an identical element). When the table or a set is
//        missing (ENOENT), the whole create script runs instead, in ONE transaction: add table,
//        sets and chains (no-ops when present), flush the chains and add the static rules again,
//        then the elements. Two creators racing converge: each flush+add is atomic.
//   DEL  the keys the caller knows are looked up (their comments must be the attachment's tag)
//        and expired: a timeout update, gone within a jiffy and freed by the set's garbage
//        collector, because a deletion makes every nf_tables socket release wait for an RCU
//        grace period (element_table.cpp). On kernels before 6.12, or tables made before the
//        timeout flag, `delete element` of the keys instead. When one is missing or not the
//        attachment's (deleted already, never added, or the caller does not know the keys),
//        DEL falls back to listing this table once and deleting the elements tagged with the
//        attachment, so it stays idempotent. DEL never deletes the table: a concurrent ADD
//        could be using it.
//   GC   lists once, deletes the elements of attachments not valid, and the table when no
//        tagged element is left.
//   CHECK lists once and looks for the attachment's elements.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/nft/attachment.h"
#include "net/nft/nft.h"

namespace berth::net::nft {

// A set or map of the table. Key (and value) types are nft type names, concatenated in order.
struct SetDecl {
    std::string name;                      // identifier: "hp4_any"
    std::vector<std::string> key_types;    // {"inet_proto", "inet_service"}
    std::vector<std::string> value_types;  // empty for a set
    bool interval = false;

    // `type a . b : c . d; flags interval;` (the part inside braces); sets that are not
    // interval sets get `flags timeout;`.
    std::string spec() const;
};

struct ChainDecl {
    std::string name;  // a plain identifier of ours ("postrouting")
    // The base chain's spec inside braces ("type nat hook postrouting priority srcnat; policy
    // accept;"), or empty for a regular chain.
    std::string hook;
};

struct RuleText {
    std::string chain;
    std::string body;  // built from constants and validated values only
};

struct StaticTable {
    std::string family;  // "inet", "bridge"
    std::string name;    // from table_name(): a valid identifier
    std::vector<SetDecl> sets;
    std::vector<ChainDecl> chains;
    std::vector<RuleText> rules;  // in chain order; the chains hold exactly these

    // `inet berth-pm-x` for scripts.
    std::string ref() const;
    const SetDecl* set(std::string_view name) const;
};

// One element: `key` and `value` as nft script text, components joined by " . ", built from
// validated values only. `tagged` elements carry the attachment's comment and belong to it;
// untagged ones (a network's subnets) are shared and only removed with the table.
struct Element {
    std::string set;
    std::string key;
    std::string value;  // empty for a set
    bool tagged = true;

    friend bool operator==(const Element&, const Element&) = default;
};

// The whole table, its static rules and then the elements: one transaction.
std::string create_script(const StaticTable& table);
// `add element` lines for `elements` (tagged ones with `comment "<tag>"`).
Result<std::string> add_elements_script(const StaticTable& table, std::string_view tag,
                                        const std::vector<Element>& elements);
// `delete element` lines for the keys of `elements` (untagged ones are skipped).
std::string delete_elements_script(const StaticTable& table, const std::vector<Element>& elements);

// An element as listed: set name, key and value rendered as script text, and its comment.
struct ListedElement {
    Element element;
    std::string comment;
};
struct ListedTable {
    bool exists = false;
    std::vector<std::string> sets;
    // Chain name -> number of rules in it.
    std::vector<std::pair<std::string, size_t>> chains;
    std::vector<ListedElement> elements;
};
// Parses the JSON of `list table` (pure; unit-tested). Elements whose key or value cannot be
// rendered back as safe script text are skipped.
ListedTable parse_listing(const StaticTable& table, const Json& listing);
// The table's sets, chains and elements; exists=false when there is no such table.
Result<ListedTable> list_table(Context& ctx, const StaticTable& table);

// ADD: see the header comment; in the calling thread's network namespace. The elements go to
// the kernel as raw nf_tables messages (element_socket.h); only when the table or a set is
// missing does the create script run, through libnftables (thread_context()).
Result<void> add_elements(const StaticTable& table, std::string_view tag,
                          const std::vector<Element>& elements);
// DEL: expires (or deletes) the tagged `elements` by key in one transaction (raw messages) and
// returns once they are gone; when one is missing or another's (or `known` is false), deletes
// every element tagged `tag` found by listing (libnftables). No table: success.
Result<void> delete_elements(const StaticTable& table, std::string_view tag,
                             const std::vector<Element>& elements, bool known = true);
// GC: deletes the elements whose tag `drop(tag)` selects; deletes the table when no tagged
// element is left. No table: success.
Result<void> gc_elements(Context& ctx, const StaticTable& table,
                         const std::function<bool(std::string_view tag)>& drop);
// CHECK: ENOENT naming what is missing: the table, a set, a chain or its rules, or one of
// `elements` (tagged ones must carry `tag`).
Result<void> check_elements(Context& ctx, const StaticTable& table, std::string_view tag,
                            const std::vector<Element>& elements);

// The tags of `valid` as a predicate for gc_elements: true for tags NOT among them.
std::function<bool(std::string_view)> not_in(const std::vector<AttachmentId>& valid);

}  // namespace berth::net::nft
