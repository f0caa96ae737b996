// A small typed reader over nlohmann::json that knows the path of the value it reads, so every
// error names the field: "process.user.uid: expected a non-negative integer, got string".
// Absent and null members read as "not set" (as Go's encoding/json treats them for the spec).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace berth::oci::json {

using Json = nlohmann::json;

// Parses a whole document without exceptions. `what` names it in errors:
// "config.json: parse error at byte 12: syntax error while parsing object key ...".
Result<Json> parse_document(std::string_view text, std::string_view what);

// "string", "array", "boolean"..., or the number itself for numbers (to show a bad value).
std::string describe(const Json& value);

class Node {
  public:
    Node(const Json& value, std::string path) : value_(&value), path_(std::move(path)) {}

    const Json& value() const { return *value_; }
    const std::string& path() const { return path_; }

    // An EINVAL error that starts with this node's path: `node.error() << "must be absolute"`.
    Error error() const;

    Result<void> expect_object() const;

    // The member `key` of this object (checked with expect_object() first), or nullopt when it is
    // absent or null.
    std::optional<Node> member(std::string_view key) const;
    // The array's elements with paths "path[0]", "path[1]"...
    Result<std::vector<Node>> elements() const;
    // The object's members as (key, node) with paths `path["key"]`, in key order.
    Result<std::vector<std::pair<std::string, Node>>> entries() const;

    Result<std::string> as_string() const;
    Result<bool> as_bool() const;
    Result<uint64_t> as_u64(uint64_t max) const;
    Result<int64_t> as_i64(int64_t min, int64_t max) const;

    template <typename T>
    Result<T> as() const;

  private:
    const Json* value_;
    std::string path_;
};

template <typename T>
Result<T> Node::as() const {
    if constexpr (std::is_same_v<T, std::string>) {
        return as_string();
    } else if constexpr (std::is_same_v<T, bool>) {
        return as_bool();
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
        uint64_t v = BERTH_TRY(as_u64(std::numeric_limits<T>::max()));
        return static_cast<T>(v);
    } else if constexpr (std::is_integral_v<T>) {
        int64_t v = BERTH_TRY(as_i64(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
        return static_cast<T>(v);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        std::vector<std::string> out;
        for (const Node& e : BERTH_TRY(elements())) out.push_back(BERTH_TRY(e.as_string()));
        return out;
    } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
        std::vector<uint32_t> out;
        for (const Node& e : BERTH_TRY(elements())) out.push_back(BERTH_TRY(e.as<uint32_t>()));
        return out;
    } else {
        static_assert(std::is_same_v<T, std::map<std::string, std::string>>, "unsupported type");
        std::map<std::string, std::string> out;
        for (const auto& [key, node] : BERTH_TRY(entries())) out[key] = BERTH_TRY(node.as_string());
        return out;
    }
}

// Reads member `key` of `obj` into `out` when present; leaves `out` alone when absent or null.
template <typename T>
Result<void> read(const Node& obj, std::string_view key, T& out) {
    if (auto m = obj.member(key)) out = BERTH_TRY(m->as<T>());
    return {};
}

template <typename T>
Result<void> read(const Node& obj, std::string_view key, std::optional<T>& out) {
    if (auto m = obj.member(key)) out = BERTH_TRY(m->as<T>());
    return {};
}

// The member `key`, or "<path>.<key>: required field missing".
Result<Node> require(const Node& obj, std::string_view key);

template <typename T>
Result<void> read_required(const Node& obj, std::string_view key, T& out) {
    Node m = BERTH_TRY(require(obj, key));
    out = BERTH_TRY(m.as<T>());
    return {};
}

// Reads an array of objects with `parse(const Node&) -> Result<T>` per element.
template <typename T, typename Parse>
Result<void> read_array(const Node& obj, std::string_view key, std::vector<T>& out, Parse&& parse) {
    auto m = obj.member(key);
    if (!m) return {};
    for (const Node& e : BERTH_TRY(m->elements())) out.push_back(BERTH_TRY(parse(e)));
    return {};
}

// Calls `parse(const Node&) -> Result<T>` on member `key` when present and stores the result.
template <typename T, typename Parse>
Result<void> read_with(const Node& obj, std::string_view key, std::optional<T>& out,
                       Parse&& parse) {
    auto m = obj.member(key);
    if (!m) return {};
    out = BERTH_TRY(parse(*m));
    return {};
}

// True when the member is present and not null.
inline bool has(const Node& obj, std::string_view key) {
    return obj.member(key).has_value();
}

}  // namespace berth::oci::json
