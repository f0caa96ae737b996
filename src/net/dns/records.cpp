#include "net/dns/records.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include "base/strings.h"
#include "net/dns/message.h"

namespace berth::net::dns {
namespace {

bool valid_name(std::string_view n) {
    if (n.empty() || n.size() > 253) return false;
    for (char c : n) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    for (const auto& w : split(line, ' ')) {
        for (const auto& t : split(w, '\t')) {
            if (!t.empty()) out.push_back(t);
        }
    }
    return out;
}

}  // namespace

size_t Address::size() const {
    return family == AF_INET6 ? 16 : 4;
}

std::string Address::str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, bytes, buf, sizeof(buf));
    return buf;
}

bool Address::operator==(const Address& o) const {
    return family == o.family && std::memcmp(bytes, o.bytes, size()) == 0;
}

std::optional<Address> parse_address(std::string_view text) {
    std::string s(text);
    Address a;
    if (::inet_pton(AF_INET, s.c_str(), a.bytes) == 1) {
        a.family = AF_INET;
        return a;
    }
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes) == 1) {
        a.family = AF_INET6;
        return a;
    }
    return std::nullopt;
}

const Entry* Records::find_name(std::string_view name) const {
    std::string want = lower(name);
    for (const auto& e : entries) {
        for (const auto& n : e.names) {
            if (lower(n) == want) return &e;
        }
    }
    return nullptr;
}

const Entry* Records::find_address(const Address& a) const {
    for (const auto& e : entries) {
        for (const auto& x : e.addresses) {
            if (x == a) return &e;
        }
    }
    return nullptr;
}

const Entry* Records::find_id(std::string_view id) const {
    for (const auto& e : entries) {
        if (e.id == id) return &e;
    }
    return nullptr;
}

void Records::put(Entry e) {
    for (auto& x : entries) {
        if (x.id == e.id) {
            x = std::move(e);
            return;
        }
    }
    entries.push_back(std::move(e));
}

bool Records::remove(std::string_view id) {
    for (auto it = entries.begin(); it != entries.end(); ++it) {
        if (it->id == id) {
            entries.erase(it);
            return true;
        }
    }
    return false;
}

Result<Records> parse_records(std::string_view text) {
    Records r;
    size_t number = 0;
    for (const auto& raw : split(text, '\n')) {
        ++number;
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        auto fields = split(line, '\t');
        if (fields.size() == 2) fields.emplace_back();  // no address (its tab trimmed away)
        auto fail = [&](const char* why) {
            return Error(EINVAL) << "records line " << number << ": " << why;
        };
        if (fields.size() != 3) return fail("want ID<TAB>NAMES<TAB>ADDRESSES");
        Entry e;
        e.id = std::string(trim(fields[0]));
        if (!valid_name(e.id)) return fail("bad id");
        for (const auto& n : split(fields[1], ',')) {
            if (!valid_name(n)) return fail("bad name");
            e.names.push_back(n);
        }
        for (const auto& a : split(fields[2], ',')) {
            if (a.empty()) continue;
            auto addr = parse_address(a);
            if (!addr) return fail("bad address");
            e.addresses.push_back(*addr);
        }
        r.put(std::move(e));
    }
    return r;
}

std::string format_records(const Records& r) {
    std::string out = "# berth-dns records: ID<TAB>NAME[,ALIAS...]<TAB>ADDRESS[,ADDRESS...]\n";
    for (const auto& e : r.entries) {
        out += e.id + "\t";
        for (size_t i = 0; i < e.names.size(); ++i) out += (i ? "," : "") + e.names[i];
        out += "\t";
        for (size_t i = 0; i < e.addresses.size(); ++i) {
            out += (i ? "," : "") + e.addresses[i].str();
        }
        out += "\n";
    }
    return out;
}

std::vector<Address> resolv_conf_nameservers(std::string_view text) {
    std::vector<Address> out;
    for (const auto& raw : split(text, '\n')) {
        auto w = words(raw);
        if (w.size() < 2 || w[0] != "nameserver") continue;
        // "fe80::1%eth0": a scope the forwarder has no use for.
        auto a = parse_address(w[1].substr(0, w[1].find('%')));
        if (a && out.size() < 3) out.push_back(*a);
    }
    return out;
}

}  // namespace berth::net::dns
