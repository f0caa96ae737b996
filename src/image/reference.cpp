#include "image/reference.h"

#include <cctype>

#include "image/digest.h"

namespace berth::image {

namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// A repository path component: [a-z0-9]+ joined by one separator ("." "_" "__" or "-"+).
bool valid_component(std::string_view c) {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
    for (size_t i = 0; i < c.size();) {
        if (is_lower_alnum(c[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j])) ++j;
        std::string_view sep = c.substr(i, j - i);
        bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
        if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
        i = j;
    }
    return true;
}

// host[:port], host a dotted list of labels ([a-zA-Z0-9-], not starting or ending with '-'),
// or a bracketed IPv6 address.
bool valid_domain(std::string_view d) {
    std::string_view host = d;
    if (!d.empty() && d.front() == '[') {
        auto close = d.find(']');
        if (close == std::string_view::npos || close < 3) return false;
        for (char c : d.substr(1, close - 1))
            if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'))
                return false;
        host = {};
        d = d.substr(close + 1);
        if (!d.empty() && d.front() != ':') return false;
    } else {
        auto colon = d.find(':');
        host = d.substr(0, colon);
        d = colon == std::string_view::npos ? std::string_view() : d.substr(colon);
        if (host.empty()) return false;
        size_t start = 0;
        while (true) {
            auto dot = host.find('.', start);
            std::string_view label = host.substr(start, dot - start);
            if (label.empty() || label.front() == '-' || label.back() == '-') return false;
            for (char c : label)
                if (!is_alnum(c) && c != '-') return false;
            if (dot == std::string_view::npos) break;
            start = dot + 1;
        }
    }
    if (!d.empty()) {  // ":port"
        std::string_view port = d.substr(1);
        if (port.empty() || port.size() > 5) return false;
        for (char c : port)
            if (c < '0' || c > '9') return false;
    }
    return true;
}

bool valid_tag(std::string_view t) {
    if (t.empty() || t.size() > 128) return false;
    auto word = [](char c) { return is_alnum(c) || c == '_'; };
    if (!word(t.front())) return false;
    for (char c : t)
        if (!word(c) && c != '.' && c != '-') return false;
    return true;
}

bool all_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

// The rules of docker's distribution/reference (ParseNormalizedNamed).
Result<Reference> Reference::parse(std::string_view text) {
    auto fail = [&](std::string_view why) {
        return Error(EINVAL) << "invalid reference `" << text << "`: " << why;
    };
    if (text.empty()) return fail("empty");
    Reference r;
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        auto d = Digest::parse(rest.substr(at + 1));
        if (!d.ok()) return fail(d.error().message());
        r.digest = d->str();
        rest = rest.substr(0, at);
    }
    auto last_slash = rest.rfind('/');
    auto last_colon = rest.rfind(':');
    if (last_colon != std::string_view::npos &&
        (last_slash == std::string_view::npos || last_colon > last_slash)) {
        std::string_view tag = rest.substr(last_colon + 1);
        if (!valid_tag(tag)) return fail("invalid tag `" + std::string(tag) + "`");
        r.tag = tag;
        rest = rest.substr(0, last_colon);
    }
    if (rest.empty()) return fail("no repository name");
    std::string_view path = rest;
    auto first_slash = rest.find('/');
    if (first_slash != std::string_view::npos) {
        std::string_view first = rest.substr(0, first_slash);
        bool lower = true;
        for (char c : first)
            if (c >= 'A' && c <= 'Z') lower = false;
        if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || !lower) {
            if (!valid_domain(first)) return fail("invalid registry `" + std::string(first) + "`");
            r.registry = first;
            path = rest.substr(first_slash + 1);
        }
    }
    if (r.registry.empty() && all_hex64(rest))
        return fail("a 64-character hexadecimal string is an image ID, not a repository name");
    if (path.empty()) return fail("no repository name");
    for (size_t start = 0;;) {
        auto slash = path.find('/', start);
        std::string_view c = path.substr(start, slash - start);
        for (char ch : c)
            if (ch >= 'A' && ch <= 'Z') return fail("repository name must be lowercase");
        if (!valid_component(c))
            return fail("invalid repository name component `" + std::string(c) + "`");
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (r.registry.empty() || r.registry == "index.docker.io") r.registry = "docker.io";
    r.repository = path;
    if (r.registry == "docker.io" && r.repository.find('/') == std::string::npos)
        r.repository = "library/" + r.repository;
    if (r.registry.size() + 1 + r.repository.size() > 255) return fail("name longer than 255");
    if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
    return r;
}

std::string Reference::str() const {
    std::string s = registry + "/" + repository;
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

}  // namespace berth::image
