#include "net/nft/element_table.h"

#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>

#include "net/nft/element_socket.h"
#include "net/nft/script.h"

namespace berth::net::nft {

namespace {

// Table, set and chain names are ours and always valid; the check is a second line of defence:
// a failure gives a script nft refuses as a whole.
std::string ident(std::string_view s) {
    auto r = identifier(s);
    return r ? *r : std::string("\"<invalid identifier>\"");
}

std::string join_types(const std::vector<std::string>& types) {
    std::string out;
    for (const std::string& t : types) out += (out.empty() ? "" : " . ") + t;
    return out;
}

// A listed scalar back as script text: numbers as they are, strings of an ifname component
// quoted, other strings (addresses, protocols, MACs) only when made of characters that cannot
// break out of the element.
std::optional<std::string> render_scalar(const Json& j, std::string_view type) {
    if (j.is_number_unsigned() || j.is_number_integer()) return j.dump();
    if (j.is_string()) {
        const std::string& s = j.get_ref<const std::string&>();
        if (type == "ifname") {
            auto q = quote(s);
            return q ? std::optional<std::string>(*q) : std::nullopt;
        }
        if (s.empty()) return std::nullopt;
        for (char ch : s) {
            const auto c = static_cast<unsigned char>(ch);
            if (!std::isalnum(c) && c != ':' && c != '.' && c != '_' && c != '-')
                return std::nullopt;
        }
        return s;
    }
    if (j.is_object()) {
        if (auto p = j.find("prefix"); p != j.end() && p->is_object()) {
            auto addr = render_scalar(p->value("addr", Json()), type);
            auto len = p->find("len");
            if (!addr || len == p->end() || !len->is_number_integer()) return std::nullopt;
            return *addr + "/" + len->dump();
        }
        if (auto r = j.find("range"); r != j.end() && r->is_array() && r->size() == 2) {
            auto a = render_scalar((*r)[0], type), b = render_scalar((*r)[1], type);
            if (!a || !b) return std::nullopt;
            return *a + "-" + *b;
        }
    }
    return std::nullopt;
}

std::optional<std::string> render(const Json& j, const std::vector<std::string>& types) {
    if (j.is_object() && j.contains("concat")) {
        const Json& parts = j["concat"];
        if (!parts.is_array() || parts.size() != types.size()) return std::nullopt;
        std::string out;
        for (size_t i = 0; i < parts.size(); i++) {
            auto s = render_scalar(parts[i], types[i]);
            if (!s) return std::nullopt;
            out += (i ? " . " : "") + *s;
        }
        return out;
    }
    if (types.size() != 1) return std::nullopt;
    return render_scalar(j, types[0]);
}

// Whether nf_tables updates an existing element's timeout (Linux 6.12, "set element timeout
// update support"). Earlier kernels accept the same message and leave the element as it was.
bool kernel_updates_element_timeouts() {
    static const bool yes = [] {
        utsname u{};
        unsigned major = 0, minor = 0;
        if (::uname(&u) != 0 || std::sscanf(u.release, "%u.%u", &major, &minor) != 2) return false;
        return major > 6 || (major == 6 && minor >= 12);
    }();
    return yes;
}

bool all_absent(const std::vector<std::optional<std::string>>& present) {
    return std::none_of(present.begin(), present.end(),
                        [](const auto& c) { return c.has_value(); });
}

// Whether every tagged element of `elements` is in its set and carries `tag`: the keys a DEL
// knows may have been handed on since (a runtime retrying an old attachment's teardown after
// its address and host port went to a new one), and only the attachment's own are removed.
Result<bool> held_by(const StaticTable& table, std::string_view tag,
                     const std::vector<Element>& elements) {
    const auto present = BERTH_TRY(query_elements(table, elements));
    return std::all_of(present.begin(), present.end(),
                       [&](const auto& comment) { return comment && *comment == tag; });
}

// DEL by expiry instead of deletion. The kernel frees a deleted element only after an RCU grace
// period, and until it has, releasing ANY nf_tables socket waits for that under the namespace's
// commit mutex: in a teardown, every plugin's exit and the next plugin's commit wait one grace
// period each. An element whose timeout is updated to kExpireAfterMs is gone for packet lookups,
// listings and new ADDs of the same key within one jiffy, and the set's garbage collector frees
// it later without making anyone wait. This polls until the elements are gone, so DEL still
// returns only once they are.
//
// EOPNOTSUPP: the kernel cannot; EINVAL: a set made before the timeout flag; EEXIST: a key maps
// to another value; the caller deletes by key on those. ETIMEDOUT: still there after 200 ms.
Result<void> expire_elements(const StaticTable& table, std::string_view tag,
                             const std::vector<Element>& elements) {
    if (!kernel_updates_element_timeouts())
        return Error(EOPNOTSUPP) << "nftables: this kernel does not update element timeouts";
    BERTH_TRY(send_elements(table, tag, elements, ElementOp::kExpire));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    for (;;) {
        if (all_absent(BERTH_TRY(query_elements(table, elements)))) return {};
        if (std::chrono::steady_clock::now() > deadline)
            return Error(ETIMEDOUT) << "nftables: elements of " << tag << " in table "
                                    << table.ref() << " did not expire";
        const timespec tick{0, 1'000'000};  // the expiry has a jiffy's granularity
        ::nanosleep(&tick, nullptr);
    }
}

std::string element_text(const Element& e, const std::string& comment) {
    std::string s = e.key;
    if (e.tagged) s += " comment " + comment;
    if (!e.value.empty()) s += " : " + e.value;
    return s;
}

// Lines of `prefix <table> <set> { e1, e2 }`, one per set, in the order sets first appear.
template <typename Text>
std::string per_set(const StaticTable& table, std::string_view verb,
                    const std::vector<Element>& elements, Text text) {
    std::vector<std::string> order;
    for (const Element& e : elements)
        if (std::find(order.begin(), order.end(), e.set) == order.end()) order.push_back(e.set);
    std::string s;
    for (const std::string& set : order) {
        std::string items;
        for (const Element& e : elements) {
            if (e.set != set) continue;
            std::optional<std::string> t = text(e);
            if (!t) continue;
            items += (items.empty() ? "" : ", ") + *t;
        }
        if (!items.empty())
            s += std::string(verb) + " element " + table.ref() + " " + ident(set) + " { " + items +
                 " }\n";
    }
    return s;
}

std::vector<Element> tagged_with(const ListedTable& listed, std::string_view tag) {
    std::vector<Element> out;
    for (const ListedElement& le : listed.elements)
        if (le.element.tagged && le.comment == tag) out.push_back(le.element);
    return out;
}

}  // namespace

std::string SetDecl::spec() const {
    std::string s = "type " + join_types(key_types);
    if (!value_types.empty()) s += " : " + join_types(value_types);
    s += ";";
    // Elements of the other sets are the attachments' own, and DEL expires them (see
    // expire_elements below), which needs the timeout flag.
    s += interval ? " flags interval;" : " flags timeout;";
    return s;
}

std::string StaticTable::ref() const {
    return ident(family) + " " + ident(name);
}

const SetDecl* StaticTable::set(std::string_view n) const {
    for (const SetDecl& s : sets)
        if (s.name == n) return &s;
    return nullptr;
}

std::string create_script(const StaticTable& table) {
    std::string s = "add table " + table.ref() + "\n";
    for (const SetDecl& set : table.sets)
        s += std::string(set.value_types.empty() ? "add set " : "add map ") + table.ref() + " " +
             ident(set.name) + " { " + set.spec() + " }\n";
    for (const ChainDecl& c : table.chains) {
        s += "add chain " + table.ref() + " " + ident(c.name);
        if (!c.hook.empty()) s += " { " + c.hook + " }";
        s += "\n";
    }
    for (const ChainDecl& c : table.chains)
        s += "flush chain " + table.ref() + " " + ident(c.name) + "\n";
    for (const RuleText& r : table.rules)
        s += "add rule " + table.ref() + " " + ident(r.chain) + " " + r.body + "\n";
    return s;
}

Result<std::string> add_elements_script(const StaticTable& table, std::string_view tag,
                                        const std::vector<Element>& elements) {
    const std::string comment = BERTH_TRY_CTX(quote(tag), "element comment");
    return per_set(table, "add", elements,
                   [&](const Element& e) { return std::optional(element_text(e, comment)); });
}

std::string delete_elements_script(const StaticTable& table, const std::vector<Element>& elements) {
    return per_set(table, "delete", elements,
                   [](const Element& e) { return e.tagged ? std::optional(e.key) : std::nullopt; });
}

ListedTable parse_listing(const StaticTable& table, const Json& listing) {
    ListedTable out;
    auto items = listing.find("nftables");
    if (items == listing.end() || !items->is_array()) return out;
    for (const Json& item : *items) {
        if (!item.is_object()) continue;
        if (item.contains("table")) out.exists = true;
        if (auto c = item.find("chain"); c != item.end() && c->is_object()) {
            out.chains.emplace_back(c->value("name", ""), 0);
            continue;
        }
        if (auto r = item.find("rule"); r != item.end() && r->is_object()) {
            const std::string chain = r->value("chain", "");
            for (auto& [name, n] : out.chains)
                if (name == chain) n++;
            continue;
        }
        auto s = item.find("set");
        if (s == item.end()) s = item.find("map");
        if (s == item.end() || !s->is_object()) continue;
        const std::string name = s->value("name", "");
        out.sets.push_back(name);
        const SetDecl* decl = table.set(name);
        auto elems = s->find("elem");
        if (!decl || elems == s->end() || !elems->is_array()) continue;
        const bool is_map = !decl->value_types.empty();
        for (const Json& e : *elems) {
            const Json* key = &e;
            const Json* value = nullptr;
            if (is_map) {
                if (!e.is_array() || e.size() != 2) continue;
                key = &e[0];
                value = &e[1];
            }
            ListedElement le;
            le.element.set = name;
            if (key->is_object() && key->contains("elem") && (*key)["elem"].is_object()) {
                le.comment = (*key)["elem"].value("comment", "");
                key = &(*key)["elem"]["val"];
            }
            auto k = render(*key, decl->key_types);
            if (!k) continue;
            le.element.key = *k;
            if (value) {
                auto v = render(*value, decl->value_types);
                if (!v) continue;
                le.element.value = *v;
            }
            le.element.tagged = is_attachment_tag(le.comment);
            out.elements.push_back(std::move(le));
        }
    }
    return out;
}

Result<ListedTable> list_table(Context& ctx, const StaticTable& table) {
    auto listing = ctx.list("list table " + table.ref());
    if (!listing) {
        if (listing.error().errno_value() == ENOENT) return ListedTable{};
        return std::move(listing).error();
    }
    ListedTable t = parse_listing(table, *listing);
    t.exists = true;
    return t;
}

Result<void> add_elements(const StaticTable& table, std::string_view tag,
                          const std::vector<Element>& elements) {
    if (elements.empty()) return {};
    auto r = send_elements(table, tag, elements, ElementOp::kAdd);
    if (r || r.error().errno_value() != ENOENT) return r;
    // No table, or an older one without some set: create (or complete) it in the same
    // transaction as the elements. (A set made before the timeout flag cannot be re-declared
    // with it: completing such a table fails with EEXIST until its last attachment is gone.)
    const std::string add = BERTH_TRY(add_elements_script(table, tag, elements));
    Context* ctx = BERTH_TRY(thread_context());
    return ctx->apply(create_script(table) + add);
}

Result<void> delete_elements(const StaticTable& table, std::string_view tag,
                             const std::vector<Element>& elements, bool known) {
    // A failed lookup is no reason to fail: the listing below finds the same.
    auto held = known ? held_by(table, tag, elements) : Result<bool>(false);
    if (held && *held) {
        auto expired = expire_elements(table, tag, elements);
        if (expired) return {};
        const int err = expired.error().errno_value();
        if (err == EOPNOTSUPP || err == EINVAL || err == EEXIST) {
            auto r = send_elements(table, tag, elements, ElementOp::kDelete);
            if (r) note_deletion();
            if (r || r.error().errno_value() != ENOENT) return r;
        }
        // ETIMEDOUT: an ADD of the same key and value in the jiffy before the expiry took the
        // element back (it keeps its old comment, so it still reads as ours); the listing
        // below removes it by our tag, as a delete would have without the expiry.
    }
    // Some key is missing or another attachment's, or the caller does not know the keys.
    Context* ctx = BERTH_TRY(thread_context());
    ListedTable listed = BERTH_TRY(list_table(*ctx, table));
    const std::vector<Element> ours = tagged_with(listed, tag);
    const std::string del = delete_elements_script(table, ours);
    if (del.empty()) return {};
    note_deletion();
    return ctx->apply(del);
}

Result<void> gc_elements(Context& ctx, const StaticTable& table,
                         const std::function<bool(std::string_view tag)>& drop) {
    ListedTable listed = BERTH_TRY(list_table(ctx, table));
    if (!listed.exists) return {};
    std::vector<Element> stale;
    size_t kept = 0;
    for (const ListedElement& le : listed.elements) {
        if (!le.element.tagged) continue;
        if (drop(le.comment)) {
            stale.push_back(le.element);
        } else {
            kept++;
        }
    }
    if (kept == 0) {
        note_deletion();
        return ctx.apply("delete table " + table.ref() + "\n");
    }
    const std::string del = delete_elements_script(table, stale);
    if (del.empty()) return {};
    note_deletion();
    return ctx.apply(del);
}

Result<void> check_elements(Context& ctx, const StaticTable& table, std::string_view tag,
                            const std::vector<Element>& elements) {
    ListedTable listed = BERTH_TRY(list_table(ctx, table));
    if (!listed.exists) return Error(ENOENT) << "nftables table " << table.ref() << " is missing";
    for (const SetDecl& s : table.sets)
        if (std::find(listed.sets.begin(), listed.sets.end(), s.name) == listed.sets.end())
            return Error(ENOENT) << "set \"" << s.name << "\" of table " << table.ref()
                                 << " is missing";
    for (const ChainDecl& c : table.chains) {
        const size_t want = static_cast<size_t>(
            std::count_if(table.rules.begin(), table.rules.end(),
                          [&](const RuleText& r) { return r.chain == c.name; }));
        auto it = std::find_if(listed.chains.begin(), listed.chains.end(),
                               [&](const auto& p) { return p.first == c.name; });
        if (it == listed.chains.end())
            return Error(ENOENT) << "chain \"" << c.name << "\" of table " << table.ref()
                                 << " is missing";
        if (it->second != want)
            return Error(ENOENT) << "chain \"" << c.name << "\" of table " << table.ref() << " has "
                                 << it->second << " rules, expected " << want;
    }
    for (const Element& e : elements) {
        const bool found = std::any_of(
            listed.elements.begin(), listed.elements.end(), [&](const ListedElement& le) {
                return le.element.set == e.set && le.element.key == e.key &&
                       le.element.value == e.value && (!e.tagged || le.comment == tag);
            });
        if (!found)
            return Error(ENOENT) << "no element { " << e.key
                                 << (e.value.empty() ? "" : " : " + e.value) << " } of " << tag
                                 << " in set \"" << e.set << "\" of table " << table.ref();
    }
    return {};
}

std::function<bool(std::string_view)> not_in(const std::vector<AttachmentId>& valid) {
    std::vector<std::string> keep;
    for (const AttachmentId& id : valid) keep.push_back(attachment_tag(id));
    return [keep = std::move(keep)](std::string_view tag) {
        return std::find(keep.begin(), keep.end(), tag) == keep.end();
    };
}

}  // namespace berth::net::nft
