#include "oci/json_reader.h"

#include "base/strings.h"

namespace berth::oci::json {

namespace {

// Records where the first syntax error is; used only to explain a document that failed to parse.
class ErrorLocator : public nlohmann::json_sax<Json> {
  public:
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& ex) override {
        found = true;
        byte = position;
        message = ex.what();
        return false;
    }

    bool found = false;
    std::size_t byte = 0;
    std::string message;
};

// "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." becomes
// "(line 1, column 2): syntax error ...".
std::string tidy_parse_message(std::string_view msg) {
    if (size_t close = msg.find("] "); close != std::string_view::npos)
        msg.remove_prefix(close + 2);
    constexpr std::string_view kAt = "parse error at ";
    if (msg.substr(0, kAt.size()) == kAt) {
        msg.remove_prefix(kAt.size());
        size_t colon = msg.find(": ");
        if (colon != std::string_view::npos) {
            return "(" + std::string(msg.substr(0, colon)) +
                   "): " + std::string(msg.substr(colon + 2));
        }
    }
    if (constexpr std::string_view kErr = "parse error: "; msg.substr(0, kErr.size()) == kErr) {
        msg.remove_prefix(kErr.size());
    }
    return ": " + std::string(msg);
}

std::string join_key(const std::string& path, std::string_view key) {
    if (path.empty()) return std::string(key);
    std::string out = path;
    out += '.';
    out += key;
    return out;
}

}  // namespace

Result<Json> parse_document(std::string_view text, std::string_view what) {
    Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded()) return doc;

    ErrorLocator locator;
    Json::sax_parse(text.begin(), text.end(), &locator);
    Error err(EINVAL);
    err << what << ": parse error";
    if (locator.found) {
        // nlohmann counts the bytes read including the bad one; report its 0-based offset.
        err << " at byte " << static_cast<uint64_t>(locator.byte > 0 ? locator.byte - 1 : 0);
        std::string detail = tidy_parse_message(locator.message);
        if (detail[0] == '(') err << ' ';
        err << detail;
    }
    return err;
}

std::string describe(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return "boolean";
        case Json::value_t::string:
            return "string";
        case Json::value_t::array:
            return "array";
        case Json::value_t::object:
            return "object";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float:
            return "number " + value.dump();
        default:
            return "binary";
    }
}

Error Node::error() const {
    Error err(EINVAL);
    if (!path_.empty()) err << path_ << ": ";
    return err;
}

Result<void> Node::expect_object() const {
    if (!value_->is_object()) return error() << "expected an object, got " << describe(*value_);
    return {};
}

std::optional<Node> Node::member(std::string_view key) const {
    if (!value_->is_object()) return std::nullopt;
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) return std::nullopt;
    return Node(*it, join_key(path_, key));
}

Result<Node> require(const Node& obj, std::string_view key) {
    if (auto m = obj.member(key)) return *m;
    return Error(EINVAL) << join_key(obj.path(), key) << ": required field missing";
}

Result<std::vector<Node>> Node::elements() const {
    if (!value_->is_array()) return error() << "expected an array, got " << describe(*value_);
    std::vector<Node> out;
    out.reserve(value_->size());
    size_t i = 0;
    for (const Json& e : *value_) {
        std::string p = path_;
        p += '[';
        p += std::to_string(i++);
        p += ']';
        out.emplace_back(e, std::move(p));
    }
    return out;
}

Result<std::vector<std::pair<std::string, Node>>> Node::entries() const {
    if (!value_->is_object()) return error() << "expected an object, got " << describe(*value_);
    std::vector<std::pair<std::string, Node>> out;
    out.reserve(value_->size());
    for (auto it = value_->begin(); it != value_->end(); ++it) {
        // Map keys become file names, sysctl paths, env-like names: NUL would truncate them.
        if (it.key().find('\0') != std::string::npos) {
            return error() << "key " << '"' << json_escape(it.key()) << "\" contains a NUL byte";
        }
        std::string p = path_;
        p += "[\"";
        p += json_escape(it.key());
        p += "\"]";
        out.emplace_back(it.key(), Node(it.value(), std::move(p)));
    }
    return out;
}

Result<std::string> Node::as_string() const {
    if (!value_->is_string()) return error() << "expected a string, got " << describe(*value_);
    const std::string& s = value_->get_ref<const std::string&>();
    // Every string ends up in a C API (path, argv, env, file content); NUL would truncate it.
    if (s.find('\0') != std::string::npos) return error() << "contains a NUL byte";
    return s;
}

Result<bool> Node::as_bool() const {
    if (!value_->is_boolean()) return error() << "expected a boolean, got " << describe(*value_);
    return value_->get<bool>();
}

Result<uint64_t> Node::as_u64(uint64_t max) const {
    uint64_t v = 0;
    if (value_->is_number_unsigned()) {
        v = value_->get<uint64_t>();
    } else if (value_->is_number_integer()) {
        int64_t i = value_->get<int64_t>();
        if (i < 0) return error() << "expected a non-negative integer, got " << i;
        v = static_cast<uint64_t>(i);
    } else {
        return error() << "expected a non-negative integer, got " << describe(*value_);
    }
    if (v > max) return error() << "expected an integer between 0 and " << max << ", got " << v;
    return v;
}

Result<int64_t> Node::as_i64(int64_t min, int64_t max) const {
    if (value_->is_number_unsigned()) {
        uint64_t u = value_->get<uint64_t>();
        if (u > static_cast<uint64_t>(max)) {
            return error() << "expected an integer between " << min << " and " << max << ", got "
                           << u;
        }
        return static_cast<int64_t>(u);
    }
    if (!value_->is_number_integer()) {
        return error() << "expected an integer, got " << describe(*value_);
    }
    int64_t i = value_->get<int64_t>();
    if (i < min || i > max) {
        return error() << "expected an integer between " << min << " and " << max << ", got " << i;
    }
    return i;
}

}  // namespace berth::oci::json
