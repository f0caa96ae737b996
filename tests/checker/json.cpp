#include "json.hpp"

#include <cstdio>

namespace checker {

Json& Json::set(const std::string& key, Json value) {
    if (!is_object()) v_ = Object{};
    auto& obj = std::get<Object>(v_);
    for (auto& kv : obj) {
        if (kv.first == key) {
            kv.second = std::move(value);
            return *this;
        }
    }
    obj.emplace_back(key, std::move(value));
    return *this;
}

Json& Json::push(Json value) {
    if (!std::holds_alternative<Array>(v_)) v_ = Array{};
    std::get<Array>(v_).push_back(std::move(value));
    return *this;
}

std::string json_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20 || c >= 0x7f) {
                    // Bytes outside printable ASCII are escaped as \u00XX so the output is
                    // always valid JSON even for binary content (the reader sees latin-1).
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    out.push_back('"');
    return out;
}

void Json::dump_to(std::string& out) const {
    if (std::holds_alternative<std::nullptr_t>(v_)) {
        out += "null";
    } else if (auto b = std::get_if<bool>(&v_)) {
        out += *b ? "true" : "false";
    } else if (auto i = std::get_if<int64_t>(&v_)) {
        out += std::to_string(*i);
    } else if (auto u = std::get_if<uint64_t>(&v_)) {
        out += std::to_string(*u);
    } else if (auto d = std::get_if<double>(&v_)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", *d);
        out += buf;
    } else if (auto s = std::get_if<std::string>(&v_)) {
        out += json_escape(*s);
    } else if (auto a = std::get_if<Array>(&v_)) {
        out.push_back('[');
        bool first = true;
        for (const auto& e : *a) {
            if (!first) out.push_back(',');
            first = false;
            e.dump_to(out);
        }
        out.push_back(']');
    } else if (auto o = std::get_if<Object>(&v_)) {
        out.push_back('{');
        bool first = true;
        for (const auto& [k, e] : *o) {
            if (!first) out.push_back(',');
            first = false;
            out += json_escape(k);
            out.push_back(':');
            e.dump_to(out);
        }
        out.push_back('}');
    }
}

std::string Json::dump() const {
    std::string out;
    dump_to(out);
    return out;
}

}  // namespace checker
