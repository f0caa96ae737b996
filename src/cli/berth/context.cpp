#include "cli/berth/context.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/file.h"
#include "base/strings.h"
#include "image/reference.h"

namespace berth::cli {

using image::Json;

Result<image::ImageStore> Context::open_images() const {
    return BERTH_TRY_CTX(image::ImageStore::open(global.root),
                         "opening the image store in `" + global.root + "`");
}

Result<void> print_out(std::string_view text) {
    while (!text.empty()) {
        ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "writing to stdout";
        text.remove_prefix(n);
    }
    return {};
}

Result<std::string> normalize_name(const std::string& name) {
    auto ref = image::Reference::parse(name);
    if (!ref.ok()) return std::move(ref).error();
    return ref->str();
}

Result<std::string> local_name(const std::string& name) {
    size_t slash = name.find('/');
    std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
    bool has_registry = first.find_first_of(".:") != std::string::npos || first == "localhost";
    return normalize_name(has_registry ? name : "localhost/" + name);
}

Result<FoundImage> find_image(const image::ImageStore& store, const std::string& ref,
                              const image::Platform& platform) {
    std::vector<std::string> names;
    if (auto n = image::Reference::parse(ref); n.ok()) names.push_back(n->str());
    // A short name loaded from an archive without a registry lives under localhost/.
    if (ref.find('/') == std::string::npos && ref.find('@') == std::string::npos) {
        if (auto n = image::Reference::parse("localhost/" + ref); n.ok()) {
            names.push_back(n->str());
        }
    }
    for (const auto& name : names) {
        auto rec = BERTH_TRY(store.get(name));
        if (!rec) continue;
        FoundImage f;
        f.resolved = BERTH_TRY_CTX(store.resolve(rec->name, platform), ref);
        f.record = std::move(*rec);
        return f;
    }
    auto resolved = store.resolve(ref, platform);
    if (!resolved.ok()) {
        if (resolved.error().errno_value() == ENOENT) {
            return Error(ENOENT) << ref << ": image not known";
        }
        return std::move(resolved).error().wrap(ref);
    }
    return FoundImage{std::nullopt, std::move(*resolved)};
}

std::string human_size(double bytes) {
    static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    size_t unit = 0;
    while (bytes >= 1000 && unit + 1 < std::size(kUnits)) {
        bytes /= 1000;
        ++unit;
    }
    char buf[32];
    snprintf(buf, sizeof(buf), "%.3g %s", bytes, kUnits[unit]);
    return buf;
}

std::optional<int64_t> parse_rfc3339(const std::string& text) {
    struct tm tm = {};
    const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == nullptr) return std::nullopt;
    int64_t t = timegm(&tm);
    if (*rest == '.') {  // fractional seconds
        ++rest;
        while (*rest >= '0' && *rest <= '9') ++rest;
    }
    if (*rest == '+' || *rest == '-') {
        int sign = *rest == '-' ? -1 : 1;
        int hh = 0, mm = 0;
        if (sscanf(rest + 1, "%d:%d", &hh, &mm) == 2) t -= sign * (hh * 3600 + mm * 60);
    }
    return t;
}

std::string human_ago(const std::string& rfc3339) {
    auto t = parse_rfc3339(rfc3339);
    if (!t) return "unknown";
    // go-units' HumanDuration, integer steps and all.
    double d = static_cast<double>(time(nullptr) - *t);
    auto n = [](int64_t v, const char* unit) { return std::to_string(v) + " " + unit + " ago"; };
    int64_t seconds = static_cast<int64_t>(d);
    if (seconds < 1) return "Less than a second ago";
    if (seconds == 1) return "1 second ago";
    if (seconds < 60) return n(seconds, "seconds");
    int64_t minutes = static_cast<int64_t>(d / 60);
    if (minutes == 1) return "About a minute ago";
    if (minutes < 60) return n(minutes, "minutes");
    int64_t hours = static_cast<int64_t>(d / 3600 + 0.5);
    if (hours == 1) return "About an hour ago";
    if (hours < 48) return n(hours, "hours");
    if (hours < 24 * 7 * 2) return n(hours / 24, "days");
    if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
    if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
    return n(static_cast<int64_t>(d / 3600) / 24 / 365, "years");
}

Result<image::Platform> parse_platform(const std::string& text, const std::string& os,
                                       const std::string& arch, const std::string& variant) {
    image::Platform p = image::host_platform();
    if (!text.empty()) {
        auto parts = split(text, '/');
        if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
            return Error(EINVAL) << "invalid platform `" << text
                                 << "`: want os/arch or os/arch/variant";
        }
        p.os = parts[0];
        p.architecture = parts[1];
        p.variant = parts.size() == 3 ? parts[2] : "";
    }
    if (!os.empty()) p.os = os;
    if (!arch.empty()) {
        p.architecture = arch;
        if (variant.empty()) p.variant.clear();
    }
    if (!variant.empty()) p.variant = variant;
    return p;
}

int64_t image_size(const image::ResolvedImage& img) {
    int64_t size = img.manifest.config.size;
    for (const auto& l : img.manifest.layers) size += l.size;
    return size;
}

std::pair<std::string, std::string> split_repo_tag(const std::string& name) {
    std::string n = name.substr(0, name.find('@'));
    size_t slash = n.rfind('/');
    size_t colon = n.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
        return {n, "<none>"};
    }
    return {n.substr(0, colon), n.substr(colon + 1)};
}

namespace {

const Json* lookup(const Json& object, std::string_view path) {
    const Json* cur = &object;
    for (const auto& part : split(path, '.')) {
        if (part.empty()) continue;
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(part);
        if (it == cur->end()) return nullptr;
        cur = &*it;
    }
    return cur;
}

std::string value_text(const Json& v, bool as_json) {
    if (!as_json && v.is_string()) return v.get<std::string>();
    if (!as_json && v.is_null()) return "<no value>";
    if (!as_json && v.is_array()) {  // Go prints slices as [a b c]
        std::string out = "[";
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += " ";
            out += value_text(v[i], false);
        }
        return out + "]";
    }
    if (!as_json && v.is_object()) {
        std::string out = "map[";
        bool first = true;
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (!first) out += " ";
            first = false;
            out += it.key() + ":" + value_text(it.value(), false);
        }
        return out + "]";
    }
    return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

Result<std::string> render_template(const std::string& format, const Json& object) {
    std::string out;
    size_t pos = 0;
    while (pos < format.size()) {
        size_t open = format.find("{{", pos);
        if (open == std::string::npos) {
            out += format.substr(pos);
            break;
        }
        out += format.substr(pos, open - pos);
        size_t close = format.find("}}", open);
        if (close == std::string::npos) {
            return Error(EINVAL) << "template `" << format << "`: unclosed action";
        }
        std::string action(trim(std::string_view(format).substr(open + 2, close - open - 2)));
        bool as_json = false;
        if (action.starts_with("json ")) {
            as_json = true;
            action = std::string(trim(std::string_view(action).substr(5)));
        }
        if (!action.starts_with(".")) {
            return Error(EINVAL) << "template `" << format << "`: unsupported action `{{" << action
                                 << "}}`";
        }
        const Json* v = lookup(object, std::string_view(action).substr(1));
        if (v == nullptr) {
            return Error(EINVAL) << "template `" << format << "`: no field `" << action << "`";
        }
        out += value_text(*v, as_json);
        pos = close + 2;
    }
    // Escapes as Go's text/template users type them in a shell.
    std::string result;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\\' && i + 1 < out.size() && out[i + 1] == 't') {
            result += '\t';
            ++i;
        } else if (out[i] == '\\' && i + 1 < out.size() && out[i + 1] == 'n') {
            result += '\n';
            ++i;
        } else {
            result += out[i];
        }
    }
    return result;
}

}  // namespace berth::cli
