#include "net/nft/owned_table.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "base/file.h"
#include "net/nft/script.h"

namespace berth::net::nft {

namespace {
constexpr const char* kLockDir = "/run/berth";
constexpr const char* kLockPath = "/run/berth/nft.lock";

// Table and chain names are ours (table_name(), fixed chain names) and always valid; the check
// is a second line of defence: a failure gives a script nft refuses as a whole.
std::string ident(std::string_view s) {
    auto r = identifier(s);
    return r ? *r : std::string("\"<invalid identifier>\"");
}

std::string q(std::string_view s) {
    auto r = quote(s);
    return r ? *r : std::string("\"<unquotable>\"");
}

std::string rule_ref(const OwnedTable& t, std::string_view chain) {
    return t.ref() + " " + ident(chain);
}
}  // namespace

std::string OwnedTable::ref() const {
    return ident(family) + " " + ident(name);
}

Result<NftLock> NftLock::acquire() {
    BERTH_TRY_CTX(mkdir_p(kLockDir), "nftables lock");
    UniqueFd fd(::open(kLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return ErrnoError() << "open `" << kLockPath << "`";
    while (::flock(fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) return ErrnoError() << "flock `" << kLockPath << "`";
    return NftLock(std::move(fd));
}

TableState parse_listing(const Json& listing) {
    TableState st;
    auto items = listing.find("nftables");
    if (items == listing.end() || !items->is_array()) return st;
    for (const Json& item : *items) {
        if (!item.is_object()) continue;
        if (item.contains("table")) st.exists = true;
        if (auto c = item.find("chain"); c != item.end() && c->is_object()) {
            st.chains.push_back(c->value("name", ""));
        } else if (auto r = item.find("rule"); r != item.end() && r->is_object()) {
            RuleEntry e;
            e.chain = r->value("chain", "");
            e.handle = r->value("handle", uint64_t{0});
            e.comment = r->value("comment", "");
            if (auto x = r->find("expr"); x != r->end()) e.expr = *x;
            st.rules.push_back(std::move(e));
        }
    }
    return st;
}

Result<TableState> read_table(Context& ctx, const OwnedTable& table) {
    auto listing = ctx.list("list table " + table.ref());
    if (!listing) {
        if (listing.error().errno_value() == ENOENT) return TableState{};
        return std::move(listing).error();
    }
    TableState st = parse_listing(*listing);
    st.exists = true;
    return st;
}

Result<std::string> replace_script(const OwnedTable& table, const TableState& state,
                                   std::string_view tag, const std::vector<RuleText>& rules) {
    const std::string comment = BERTH_TRY_CTX(quote(tag), "rule comment");
    std::string s = "add table " + table.ref() + "\n";
    for (const ChainDecl& c : table.chains) {
        s += "add chain " + rule_ref(table, c.name);
        if (!c.hook.empty()) s += " { " + c.hook + " }";
        s += "\n";
    }
    for (const RuleText& r : table.static_rules) {
        bool present = false;
        for (const RuleEntry& e : state.rules)
            present = present || (e.chain == r.chain && e.comment == kStaticTag);
        if (!present)
            s += "add rule " + rule_ref(table, r.chain) + " " + r.body + " comment " +
                 q(kStaticTag) + "\n";
    }
    for (const RuleEntry& e : state.rules)
        if (e.comment == tag)
            s += "delete rule " + rule_ref(table, e.chain) + " handle " + std::to_string(e.handle) +
                 "\n";
    for (const RuleText& r : rules)
        s += "add rule " + rule_ref(table, r.chain) + " " + r.body + " comment " + comment + "\n";
    return s;
}

Result<std::string> delete_script(const OwnedTable& table, const TableState& state,
                                  const std::function<bool(std::string_view tag)>& drop) {
    if (!state.exists) return std::string();
    std::string s;
    size_t kept = 0;  // rules that are not ours to drop and not the table's own
    for (const RuleEntry& e : state.rules) {
        if (e.comment == kStaticTag) continue;
        if (is_attachment_tag(e.comment) && drop(e.comment)) {
            s += "delete rule " + rule_ref(table, e.chain) + " handle " + std::to_string(e.handle) +
                 "\n";
        } else {
            kept++;
        }
    }
    if (kept == 0) return "delete table " + table.ref() + "\n";
    return s;
}

Result<std::string> replace_rules(const OwnedTable& table, std::string_view tag,
                                  const std::vector<RuleText>& rules) {
    NftLock lock = BERTH_TRY(NftLock::acquire());
    Context ctx = BERTH_TRY(Context::create());
    TableState st = BERTH_TRY(read_table(ctx, table));
    std::string script = BERTH_TRY(replace_script(table, st, tag, rules));
    BERTH_TRY(ctx.apply(script));
    return script;
}

Result<void> delete_rules(const OwnedTable& table,
                          const std::function<bool(std::string_view tag)>& drop) {
    NftLock lock = BERTH_TRY(NftLock::acquire());
    Context ctx = BERTH_TRY(Context::create());
    TableState st = BERTH_TRY(read_table(ctx, table));
    std::string script = BERTH_TRY(delete_script(table, st, drop));
    if (script.empty()) return {};
    return ctx.apply(script);
}

Result<std::vector<RuleEntry>> rules_of(const OwnedTable& table, std::string_view tag) {
    Context ctx = BERTH_TRY(Context::create());
    TableState st = BERTH_TRY(read_table(ctx, table));
    if (!st.exists) return Error(ENOENT) << "nftables table " << table.ref() << " is missing";
    for (const ChainDecl& c : table.chains) {
        bool found = false;
        for (const std::string& name : st.chains) found = found || name == c.name;
        if (!found)
            return Error(ENOENT) << "chain \"" << c.name << "\" of table " << table.ref()
                                 << " is missing";
    }
    for (const RuleText& r : table.static_rules) {
        bool found = false;
        for (const RuleEntry& e : st.rules)
            found = found || (e.chain == r.chain && e.comment == kStaticTag);
        if (!found)
            return Error(ENOENT) << "the jump rule in chain \"" << r.chain << "\" of table "
                                 << table.ref() << " is missing";
    }
    std::vector<RuleEntry> out;
    for (RuleEntry& e : st.rules)
        if (e.comment == tag) out.push_back(std::move(e));
    return out;
}

}  // namespace berth::net::nft
