#include "engine/spec_builder.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "oci/spec.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

constexpr const char kDefaultPath[] =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// podman's default capability set (docker's without NET_RAW, MKNOD and AUDIT_WRITE).
const char* const kCaps[] = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
                             "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
                             "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};

std::string env_key(std::string_view kv) {
    return std::string(kv.substr(0, kv.find('=')));
}

void set_env(std::vector<std::string>& env, const std::string& kv) {
    std::string key = env_key(kv);
    for (auto& e : env) {
        if (env_key(e) == key) {
            e = kv;
            return;
        }
    }
    env.push_back(kv);
}

bool has_env(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& e : env) {
        if (env_key(e) == key) return true;
    }
    return false;
}

// "K=V" as given; "K" alone takes berth's own value, or nothing when berth has none (docker).
void add_user_env(std::vector<std::string>& env, std::string_view entry) {
    if (entry.find('=') != std::string_view::npos) {
        set_env(env, std::string(entry));
        return;
    }
    std::string key(entry);
    if (const char* v = ::getenv(key.c_str())) set_env(env, key + "=" + v);
}

}  // namespace

std::string container_hostname(const CreateOptions& options, const std::string& id) {
    return options.hostname.empty() ? id.substr(0, 12) : options.hostname;
}

Result<std::vector<std::string>> merge_env(const image::ImageConfig& image,
                                           const CreateOptions& options,
                                           const std::string& hostname, const std::string& home) {
    std::vector<std::string> env;
    for (const auto& e : image.env) set_env(env, e);
    if (!has_env(env, "PATH")) env.insert(env.begin(), kDefaultPath);
    set_env(env, "HOSTNAME=" + hostname);
    if (!has_env(env, "HOME")) env.push_back("HOME=" + (home.empty() ? "/" : home));
    for (const auto& file : options.env_files) {
        std::string text = BERTH_TRY_CTX(read_file(file), "--env-file");
        for (const auto& line : split(text, '\n')) {
            std::string_view l = trim(line);
            if (l.empty() || l.front() == '#') continue;
            add_user_env(env, l);
        }
    }
    for (const auto& e : options.env) {
        if (e.empty() || e.front() == '=') {
            return Error(EINVAL) << "invalid environment variable `" << e << "`";
        }
        add_user_env(env, e);
    }
    return env;
}

Result<std::vector<std::string>> process_args(const image::ImageConfig& image,
                                              const CreateOptions& options) {
    std::vector<std::string> args;
    if (options.entrypoint) {
        // docker: a given entrypoint is one word, and drops the image's Cmd.
        if (!options.entrypoint->empty()) args.push_back(*options.entrypoint);
        args.insert(args.end(), options.command.begin(), options.command.end());
    } else {
        args = image.entrypoint;
        const auto& cmd = options.command.empty() ? image.cmd : options.command;
        args.insert(args.end(), cmd.begin(), cmd.end());
    }
    if (args.empty()) {
        return Error(EINVAL) << "no command specified: the image has no Entrypoint or Cmd";
    }
    return args;
}

Result<std::string> build_spec(const SpecInputs& in) {
    const CreateOptions& o = *in.options;
    const image::ImageConfig& img = *in.image;
    OJson spec;
    try {
        spec = OJson::parse(oci::default_spec_json(false));
    } catch (const std::exception& e) {
        return Error(EINVAL) << "default spec: " << e.what();
    }
    // Nothing here needs more than 1.0.2, and older runtimes (Debian 12's crun 1.8) refuse
    // versions they do not know.
    spec["ociVersion"] = "1.0.2";
    OJson& process = spec["process"];
    process["terminal"] = false;
    process["args"] = BERTH_TRY(process_args(img, o));
    process["env"] = in.env;
    std::string cwd = !o.workdir.empty() ? o.workdir : img.working_dir;
    if (cwd.empty()) cwd = "/";
    if (cwd.front() != '/') {
        return Error(EINVAL) << "the working directory `" << cwd << "` is not an absolute path";
    }
    process["cwd"] = cwd;
    OJson user = {{"uid", in.user.uid}, {"gid", in.user.gid}};
    if (!in.user.additional_gids.empty()) user["additionalGids"] = in.user.additional_gids;
    process["user"] = user;
    OJson caps = OJson::array();
    for (const char* c : kCaps) caps.push_back(c);
    // A non-root process keeps only the bounding set (docker): its effective set is empty
    // after setuid anyway, and the runtime would have to carry it through.
    OJson empty = OJson::array();
    bool root = in.user.uid == 0;
    process["capabilities"] = {
        {"bounding", caps}, {"effective", root ? caps : empty}, {"permitted", root ? caps : empty}};
    // podman's 1048576 open files where berth's own hard limit allows it.
    struct rlimit nofile = {1024, 1024};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    rlim_t files = std::min<rlim_t>(nofile.rlim_max, 1048576);
    process["rlimits"] =
        OJson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", files}, {"soft", files}}});
    spec["root"] = {{"path", "rootfs"}, {"readonly", o.read_only}};
    spec["hostname"] = container_hostname(o, in.id);

    OJson& linux_obj = spec["linux"];
    OJson namespaces = OJson::array();
    for (const char* type : {"pid", "ipc", "uts", "mount", "cgroup"}) {
        namespaces.push_back({{"type", type}});
    }
    // --network none: the path of a namespace with lo up is added at start (it lives under the
    // run root); host: no network namespace at all.
    if (o.network == "none") namespaces.push_back({{"type", "network"}});
    linux_obj["namespaces"] = namespaces;
    linux_obj["cgroupsPath"] = in.cgroups_path;

    OJson annotations = OJson::object();
    for (const auto& [k, v] : o.labels) annotations[k] = v;
    annotations["io.berth.image"] = o.image;
    spec["annotations"] = annotations;
    return spec.dump(1, '\t') + "\n";
}

}  // namespace berth::engine
