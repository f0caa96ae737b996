#include "net/cni/skel.h"

#include <unistd.h>

#include <cstdlib>

#include "base/file.h"
#include "base/strings.h"

namespace berth::net::cni {

namespace {

bool valid_container_id(std::string_view id) {
    if (id.empty() || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-')
            return false;
    return true;
}

bool valid_ifname(std::string_view n) {
    if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
    return n.find_first_of("/: \t\n") == std::string_view::npos;
}

// Runs a verb that needs spec version `min` or later.
Outcome dispatch(const Handler& h, const CmdArgs& args, std::string_view min) {
    if (compare_versions(args.cni_version, min) < 0)
        return Outcome::fail(
            {kIncompatibleVersion, "config version does not allow " + args.command, ""});
    if (!h) return Outcome::fail({kInvalidEnvironment, "unknown CNI_COMMAND: " + args.command, ""});
    return h(args);
}

Outcome run(const PluginFuncs& funcs, std::string_view about, const Getenv& getenv, CmdArgs& args) {
    auto env = [&](const char* name) {
        const char* v = getenv(name);
        return std::string(v ? v : "");
    };
    args.command = env("CNI_COMMAND");
    args.container_id = env("CNI_CONTAINERID");
    args.netns = env("CNI_NETNS");
    args.ifname = env("CNI_IFNAME");
    args.args = env("CNI_ARGS");
    args.path = env("CNI_PATH");
    if (args.command.empty())
        return Outcome::fail({kInvalidEnvironment, "required env variables [CNI_COMMAND] missing",
                              std::string(about)});

    if (args.command == "VERSION") {
        Json j = {{"cniVersion", supported_versions().back()},
                  {"supportedVersions", supported_versions()}};
        return Outcome::ok(j.dump());
    }

    const bool per_attachment =
        args.command == "ADD" || args.command == "DEL" || args.command == "CHECK";
    if (per_attachment) {
        std::vector<std::string> missing;
        if (args.container_id.empty()) missing.push_back("CNI_CONTAINERID");
        if (args.netns.empty() && args.command != "DEL") missing.push_back("CNI_NETNS");
        if (args.ifname.empty()) missing.push_back("CNI_IFNAME");
        if (args.path.empty()) missing.push_back("CNI_PATH");
        if (!missing.empty()) {
            std::string msg = "required env variables [";
            for (size_t i = 0; i < missing.size(); i++) msg += (i ? "," : "") + missing[i];
            return Outcome::fail({kInvalidEnvironment, msg + "] missing", ""});
        }
        if (!valid_container_id(args.container_id))
            return Outcome::fail(
                {kInvalidEnvironment, "invalid characters in containerID", args.container_id});
        if (!valid_ifname(args.ifname))
            return Outcome::fail({kInvalidEnvironment, "invalid interface name", args.ifname});
    }

    args.config = Json::parse(args.stdin_data, nullptr, /*allow_exceptions=*/false);
    if (args.config.is_discarded() || !args.config.is_object())
        return Outcome::fail({kDecodeFailure,
                              "decoding error: network configuration is not "
                              "a JSON object",
                              ""});
    auto v = args.config.find("cniVersion");
    if (v != args.config.end() && v->is_string()) args.cni_version = v->get<std::string>();
    if (!version_supported(args.cni_version)) {
        std::string list;
        for (const auto& s : supported_versions()) list += (list.empty() ? "" : " ") + s;
        std::string shown = args.cni_version;
        args.cni_version.clear();  // the error is reported in our newest version
        return Outcome::fail({kIncompatibleVersion,
                              "incompatible CNI versions; config is \"" + shown +
                                  "\", plugin supports [" + list + "]",
                              ""});
    }

    if (args.command == "ADD") return dispatch(funcs.add, args, "0.3.0");
    if (args.command == "DEL") return dispatch(funcs.del, args, "0.3.0");
    if (args.command == "CHECK") return dispatch(funcs.check, args, "0.4.0");
    if (args.command == "STATUS") return dispatch(funcs.status, args, "1.1.0");
    if (args.command == "GC") return dispatch(funcs.gc, args, "1.1.0");
    return Outcome::fail({kInvalidEnvironment, "unknown CNI_COMMAND: " + args.command, ""});
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parse_cni_args(std::string_view args) {
    std::vector<std::pair<std::string, std::string>> out;
    if (args.empty()) return out;
    for (const std::string& pair : split(args, ';')) {
        if (pair.empty()) continue;
        size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return Error(EINVAL) << "ARGS: invalid pair \"" << pair << "\"";
        out.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    }
    return out;
}

int run_plugin(const PluginFuncs& funcs, std::string_view about, const Getenv& getenv,
               const std::string& stdin_data, std::string& out) {
    CmdArgs args;
    args.stdin_data = stdin_data;
    Outcome o = run(funcs, about, getenv, args);
    if (o.error) {
        const std::string& version =
            args.cni_version.empty() ? supported_versions().back() : args.cni_version;
        out = o.error->to_json(version).dump() + "\n";
        return 1;
    }
    out = o.output.empty() ? "" : o.output + "\n";
    return 0;
}

int plugin_main(const PluginFuncs& funcs, std::string_view about) {
    std::string input;
    const char* cmd = std::getenv("CNI_COMMAND");
    // VERSION may come without a configuration; everything else reads stdin to EOF.
    if (!(cmd && std::string_view(cmd) == "VERSION" && ::isatty(STDIN_FILENO))) {
        auto r = read_fd(STDIN_FILENO);
        if (r) input = std::move(r).value();
    }
    std::string out;
    int code = run_plugin(
        funcs, about, [](const char* n) { return std::getenv(n); }, input, out);
    (void)write_all(STDOUT_FILENO, out);
    return code;
}

}  // namespace berth::net::cni
