// A table berth owns for one network and one feature (masquerade, MAC spoof check, port maps):
// its chains are declared here, and every rule carries an attachment tag (attachment.h) or the
// static tag. Each change is read-modify-write: list the table (JSON), then one transaction that
// removes the attachment's old rules by handle and adds the new ones. A node-wide lock
// (flock, released by the kernel even on SIGKILL) keeps two berth plugins from interleaving the
// read and the write, so deleting a table that was left empty never loses a concurrent ADD.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "net/nft/attachment.h"
#include "net/nft/nft.h"

namespace berth::net::nft {

// The comment of rules that belong to the table itself (dispatch jumps), not to an attachment.
inline constexpr std::string_view kStaticTag = "berth:static";

struct ChainDecl {
    std::string name;  // a plain identifier of ours ("postrouting")
    // The base chain's spec inside braces ("type nat hook postrouting priority srcnat; policy
    // accept;"), or empty for a regular chain.
    std::string hook;
};

struct RuleText {
    std::string chain;
    std::string body;  // the rule without its comment; built from validated values only
};

struct OwnedTable {
    std::string family;  // "inet", "bridge"
    std::string name;    // from table_name(): quotable
    std::vector<ChainDecl> chains;
    // Rules with kStaticTag, added when missing from their chain (dispatch jumps).
    std::vector<RuleText> static_rules;

    // `inet "berth-pm-x"` for scripts.
    std::string ref() const;
};

struct RuleEntry {
    std::string chain;
    uint64_t handle = 0;
    std::string comment;
    Json expr;  // the rule's JSON expression list
};

struct TableState {
    bool exists = false;
    std::vector<std::string> chains;
    std::vector<RuleEntry> rules;
};

// Held around a read-modify-write; /run/berth/nft.lock.
class NftLock {
  public:
    static Result<NftLock> acquire();

  private:
    explicit NftLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// The table's chains and rules; exists=false when there is no such table.
Result<TableState> read_table(Context& ctx, const OwnedTable& table);

// Replaces the rules tagged `tag` with `rules` (creating the table, its chains and its static
// rules as needed), in one transaction. Also returns the script it applied, for tests.
Result<std::string> replace_rules(const OwnedTable& table, std::string_view tag,
                                  const std::vector<RuleText>& rules);
// Deletes the rules whose attachment tag `drop(tag)` says to, in one transaction; deletes the
// whole table when no attachment's rule is left. No table: success.
Result<void> delete_rules(const OwnedTable& table,
                          const std::function<bool(std::string_view tag)>& drop);
// The rules tagged `tag`: ENOENT naming the table or a chain when they are missing.
Result<std::vector<RuleEntry>> rules_of(const OwnedTable& table, std::string_view tag);

// The script part of replace_rules, given what read_table found (pure; unit-tested).
Result<std::string> replace_script(const OwnedTable& table, const TableState& state,
                                   std::string_view tag, const std::vector<RuleText>& rules);
// The script part of delete_rules (pure; unit-tested). Empty when there is nothing to do.
Result<std::string> delete_script(const OwnedTable& table, const TableState& state,
                                  const std::function<bool(std::string_view tag)>& drop);
// Parses a `list table` JSON listing (pure; unit-tested).
TableState parse_listing(const Json& listing);

}  // namespace berth::net::nft
