// config.json: the generic part of the spec (version, root, mounts, hooks, annotations) and the
// entry point that reads the rest through the process and linux readers.
#include "base/strings.h"
#include "oci/parse_internal.h"

namespace berth::oci {

namespace detail {

std::string quote(std::string_view s) {
    std::string out = "\"";
    out += json_escape(s);
    out += '"';
    return out;
}

namespace {

using json::Node;
using json::read;

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// SemVer MAJOR.MINOR.PATCH with an optional -prerelease or +build suffix ("1.0.2-dev"). We read
// every field up to spec 1.3, and 1.x versions only add fields, so 1.0 to 1.3 are accepted.
Result<void> check_version(const Node& node, const std::string& version) {
    std::string_view v = version;
    if (size_t suffix = v.find_first_of("-+"); suffix != std::string_view::npos) {
        v = v.substr(0, suffix);
    }
    size_t dot1 = v.find('.');
    size_t dot2 = dot1 == std::string_view::npos ? dot1 : v.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || !all_digits(v.substr(0, dot1)) ||
        !all_digits(v.substr(dot1 + 1, dot2 - dot1 - 1)) || !all_digits(v.substr(dot2 + 1))) {
        return node.error() << "invalid version " << quote(version)
                            << " (expected MAJOR.MINOR.PATCH)";
    }
    auto major = parse_number<unsigned>(v.substr(0, dot1));
    auto minor = parse_number<unsigned>(v.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!major || !minor || *major != 1 || *minor > 3) {
        return node.error() << "unsupported version " << quote(version)
                            << " (supported: 1.0.0 to 1.3.x)";
    }
    return {};
}

Result<Root> read_root(const Node& node) {
    BERTH_TRY(node.expect_object());
    Root root;
    Node path = BERTH_TRY(json::require(node, "path"));
    root.path = BERTH_TRY(path.as_string());
    if (root.path.empty()) return path.error() << "must not be empty";
    BERTH_TRY(read(node, "readonly", root.readonly));
    return root;
}

Result<Mount> read_mount(const Node& node) {
    BERTH_TRY(node.expect_object());
    Mount m;
    Node dest = BERTH_TRY(json::require(node, "destination"));
    m.destination = BERTH_TRY(dest.as_string());
    // runc 1.1 only warns and resolves a relative destination against "/"; we refuse it, as the
    // spec requires an absolute path on Linux.
    if (!is_absolute(m.destination)) {
        return dest.error() << "must be an absolute path, got " << quote(m.destination);
    }
    BERTH_TRY(read(node, "type", m.type));
    BERTH_TRY(read(node, "source", m.source));
    BERTH_TRY(read(node, "options", m.options));
    if (auto maps = node.member("uidMappings")) m.uid_mappings = BERTH_TRY(read_id_mappings(*maps));
    if (auto maps = node.member("gidMappings")) m.gid_mappings = BERTH_TRY(read_id_mappings(*maps));
    return m;
}

Result<Hook> read_hook(const Node& node) {
    BERTH_TRY(node.expect_object());
    Hook hook;
    Node path = BERTH_TRY(json::require(node, "path"));
    hook.path = BERTH_TRY(path.as_string());
    if (!is_absolute(hook.path)) {
        return path.error() << "must be an absolute path, got " << quote(hook.path);
    }
    BERTH_TRY(read(node, "args", hook.args));
    BERTH_TRY(read(node, "env", hook.env));
    BERTH_TRY(read(node, "timeout", hook.timeout));
    if (hook.timeout && *hook.timeout <= 0) {
        return node.member("timeout")->error()
               << "must be greater than zero, got " << *hook.timeout;
    }
    return hook;
}

Result<Hooks> read_hooks(const Node& node) {
    BERTH_TRY(node.expect_object());
    Hooks hooks;
    const std::pair<std::string_view, std::vector<Hook>*> lists[] = {
        {"prestart", &hooks.prestart},
        {"createRuntime", &hooks.create_runtime},
        {"createContainer", &hooks.create_container},
        {"startContainer", &hooks.start_container},
        {"poststart", &hooks.poststart},
        {"poststop", &hooks.poststop},
    };
    for (const auto& [key, out] : lists) BERTH_TRY(json::read_array(node, key, *out, read_hook));
    return hooks;
}

}  // namespace

}  // namespace detail

Result<Spec> parse_spec(std::string_view json_text) {
    using json::Node;
    json::Json doc = BERTH_TRY(json::parse_document(json_text, "config.json"));
    if (!doc.is_object()) {
        return Error(EINVAL) << "config.json: expected a JSON object, got " << json::describe(doc);
    }
    Node top(doc, "");
    Spec spec;

    Node version = BERTH_TRY(json::require(top, "ociVersion"));
    spec.oci_version = BERTH_TRY(version.as_string());
    BERTH_TRY(detail::check_version(version, spec.oci_version));

    Node root = BERTH_TRY(json::require(top, "root"));
    spec.root = BERTH_TRY(detail::read_root(root));
    BERTH_TRY(json::read_with(top, "process", spec.process, detail::read_process));
    BERTH_TRY(json::read(top, "hostname", spec.hostname));
    BERTH_TRY(json::read(top, "domainname", spec.domainname));
    BERTH_TRY(json::read_array(top, "mounts", spec.mounts, detail::read_mount));
    if (auto hooks = top.member("hooks")) spec.hooks = BERTH_TRY(detail::read_hooks(*hooks));
    BERTH_TRY(json::read(top, "annotations", spec.annotations));
    BERTH_TRY(json::read_with(top, "linux", spec.linux, detail::read_linux));

    BERTH_TRY(detail::validate_spec(spec));
    return spec;
}

const Namespace* Spec::find_namespace(const std::string& type) const {
    if (!linux) return nullptr;
    for (const Namespace& ns : linux->namespaces) {
        if (ns.type == type) return &ns;
    }
    return nullptr;
}

bool Spec::has_namespace(const std::string& type) const {
    return find_namespace(type) != nullptr;
}

}  // namespace berth::oci
