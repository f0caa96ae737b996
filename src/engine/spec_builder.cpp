#include "engine/spec_builder.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "engine/monitor_launch.h"
#include "engine/seccomp_profile.h"
#include "engine/volumes.h"
#include "oci/caps.h"
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

// What ALL means: the capabilities berth itself may hand on (its bounding set, as podman
// takes it), so that a sandboxed berth does not ask for what capset would refuse.
std::vector<std::string> kernel_caps() {
    size_t n = oci::kLastKnownCap + 1;
    if (auto text = read_file("/proc/sys/kernel/cap_last_cap"); text.ok()) {
        if (auto last = parse_number<size_t>(trim(*text))) n = std::min(n, *last + 1);
    }
    uint64_t bounding = ~uint64_t(0);
    if (auto status = read_file("/proc/self/status"); status.ok()) {
        for (const auto& line : split(*status, '\n')) {
            if (!line.starts_with("CapBnd:")) continue;
            if (auto v = parse_number<uint64_t>(trim(std::string_view(line).substr(7)), 16)) {
                bounding = *v;
            }
        }
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
        if (bounding & (uint64_t(1) << i)) out.push_back(oci::cap_name(int(i)));
    }
    return out;
}

// "net_admin", "NET_ADMIN", "CAP_NET_ADMIN": CAP_NET_ADMIN (or ALL).
Result<std::string> normalize_cap(const std::string& flag, const std::string& name) {
    std::string up;
    for (char c : name) up += char(std::toupper(static_cast<unsigned char>(c)));
    if (up == "ALL") return up;
    if (!up.starts_with("CAP_")) up = "CAP_" + up;
    if (!oci::cap_from_name(up)) {
        return Error(EINVAL) << flag << ": unknown capability `" << name << "`";
    }
    return up;
}

// The host's devices for --privileged, as docker gives them: every char and block device
// under /dev but the ones the container gets its own of.
void add_host_devices(const std::string& dir, OJson& out) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string path = path_join(dir, name);
        if (path == "/dev/pts" || path == "/dev/shm" || path == "/dev/mqueue" ||
            path == "/dev/console" || path == "/dev/ptmx") {
            continue;
        }
        struct stat st;
        if (::lstat(path.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            add_host_devices(path, out);
            continue;
        }
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
        out.push_back({{"path", path},
                       {"type", S_ISCHR(st.st_mode) ? "c" : "b"},
                       {"major", major(st.st_rdev)},
                       {"minor", minor(st.st_rdev)},
                       {"fileMode", st.st_mode & 07777},
                       {"uid", st.st_uid},
                       {"gid", st.st_gid}});
    }
    ::closedir(d);
}

struct SecurityOpts {
    bool no_new_privileges = false;
    bool seccomp_unconfined = false;
    std::string seccomp_file;
};

Result<SecurityOpts> parse_security_opts(const std::vector<std::string>& opts) {
    SecurityOpts out;
    for (const auto& o : opts) {
        // docker takes both KEY=VALUE and KEY:VALUE.
        size_t sep = o.find_first_of("=:");
        std::string key = o.substr(0, sep);
        std::string value = sep == std::string::npos ? "" : o.substr(sep + 1);
        if (key == "no-new-privileges") {
            if (value.empty() || value == "true") {
                out.no_new_privileges = true;
            } else if (value == "false") {
                out.no_new_privileges = false;
            } else {
                return Error(EINVAL) << "--security-opt `" << o << "`: want true or false";
            }
        } else if (key == "seccomp" && !value.empty()) {
            out.seccomp_unconfined = value == "unconfined";
            out.seccomp_file = out.seccomp_unconfined ? "" : value;
        } else {
            return Error(EINVAL) << "--security-opt `" << o
                                 << "`: unsupported (want no-new-privileges or "
                                    "seccomp=unconfined|FILE)";
        }
    }
    return out;
}

OJson mount_json(const MountRequest& m) {
    return {{"destination", m.destination},
            {"type", m.type},
            {"source", m.source},
            {"options", m.options}};
}

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

Result<std::vector<std::string>> container_caps(const CreateOptions& o) {
    std::vector<std::string> all = kernel_caps();
    if (o.privileged) return all;
    std::vector<std::string> add, drop;
    // podman also takes comma-separated lists.
    for (const auto& list : o.cap_add) {
        for (const auto& c : split(list, ',')) {
            add.push_back(BERTH_TRY(normalize_cap("--cap-add", c)));
        }
    }
    for (const auto& list : o.cap_drop) {
        for (const auto& c : split(list, ',')) {
            drop.push_back(BERTH_TRY(normalize_cap("--cap-drop", c)));
        }
    }
    auto listed = [](const std::vector<std::string>& v, const std::string& c) {
        return std::find(v.begin(), v.end(), c) != v.end();
    };
    std::vector<std::string> caps;
    if (listed(add, "ALL")) {
        // Everything but what is dropped by name.
        for (const auto& c : all) {
            if (!listed(drop, c)) caps.push_back(c);
        }
        return caps;
    }
    if (!listed(drop, "ALL")) {
        for (const char* c : kCaps) {
            if (!listed(drop, c)) caps.push_back(c);
        }
    }
    for (const auto& c : add) {
        if (!listed(caps, c) && listed(all, c)) caps.push_back(c);
    }
    return caps;
}

Result<int64_t> parse_bytes(const std::string& flag, const std::string& text) {
    std::string_view t = trim(text);
    int64_t unit = 1;
    if (!t.empty()) {
        char c = char(std::tolower(static_cast<unsigned char>(t.back())));
        if (c == 'b') {
            t.remove_suffix(1);
            if (!t.empty()) c = char(std::tolower(static_cast<unsigned char>(t.back())));
        }
        const int64_t units[] = {1024, int64_t(1) << 20, int64_t(1) << 30, int64_t(1) << 40};
        if (size_t i = std::string_view("kmgt").find(c); i != std::string_view::npos) {
            unit = units[i];
            t.remove_suffix(1);
        }
    }
    auto n = parse_number<int64_t>(t);
    if (!n || *n < 0 || *n > INT64_MAX / unit) {
        return Error(EINVAL) << flag << " `" << text << "`: want a size like 512m, 1g or 1048576";
    }
    return *n * unit;
}

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
    process["terminal"] = o.tty;
    process["args"] = BERTH_TRY(process_args(img, o));
    process["env"] = in.env;
    if (o.tty && std::none_of(in.env.begin(), in.env.end(),
                              [](const std::string& e) { return env_key(e) == "TERM"; })) {
        process["env"].push_back("TERM=xterm");  // docker's, for a -t container
    }
    std::string cwd = !o.workdir.empty() ? o.workdir : img.working_dir;
    if (cwd.empty()) cwd = "/";
    if (cwd.front() != '/') {
        return Error(EINVAL) << "the working directory `" << cwd << "` is not an absolute path";
    }
    process["cwd"] = cwd;
    OJson user = {{"uid", in.user.uid}, {"gid", in.user.gid}};
    if (!in.user.additional_gids.empty()) user["additionalGids"] = in.user.additional_gids;
    process["user"] = user;
    std::vector<std::string> cap_names = BERTH_TRY(container_caps(o));
    OJson caps = cap_names;
    SecurityOpts sec = BERTH_TRY(parse_security_opts(o.security_opts));
    process["noNewPrivileges"] = sec.no_new_privileges;
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
    if (o.init) {
        // podman's --init: the init binary bound read-only, in front of the command.
        OJson args = OJson::array({kInitPath, "--"});
        for (const auto& a : process["args"]) args.push_back(a);
        process["args"] = args;
    }
    spec["root"] = {{"path", "rootfs"}, {"readonly", o.read_only}};
    spec["hostname"] = container_hostname(o, in.id);

    OJson& linux_obj = spec["linux"];
    OJson namespaces = OJson::array();
    for (const char* type : {"pid", "ipc", "uts", "mount", "cgroup"}) {
        namespaces.push_back({{"type", type}});
    }
    // Every mode but host has a network namespace whose path is added at start: the
    // container's own (under the run root; lo up, CNI attachments) or another container's.
    if (o.network != "host") namespaces.push_back({{"type", "network"}});
    linux_obj["namespaces"] = namespaces;
    linux_obj["cgroupsPath"] = in.cgroups_path;

    OJson& mounts = spec["mounts"];
    if (o.privileged) {
        // No masks, a writable /sys and cgroup tree, every host device.
        linux_obj.erase("maskedPaths");
        linux_obj.erase("readonlyPaths");
        for (auto& m : mounts) {
            if (m["destination"] != "/sys" && m["destination"] != "/sys/fs/cgroup") continue;
            OJson opts = OJson::array();
            for (const auto& opt : m["options"]) {
                if (opt != "ro") opts.push_back(opt);
            }
            m["options"] = opts;
        }
        OJson devices = OJson::array();
        add_host_devices("/dev", devices);
        linux_obj["devices"] = devices;
        linux_obj["resources"]["devices"] = {{{"allow", true}, {"access", "rwm"}}};
    }
    std::vector<std::pair<std::string, MountRequest>> user_mounts;
    for (const auto& v : o.volumes) {
        user_mounts.emplace_back("-v", BERTH_TRY(parse_volume(v, o.volumes_dir)));
    }
    for (const auto& t : o.tmpfs) user_mounts.emplace_back("--tmpfs", BERTH_TRY(parse_tmpfs(t)));
    // Parents before children, so that --tmpfs /x does not hide -v ...:/x/y (docker sorts too).
    // (Destinations are clean paths: no trailing or doubled slashes.)
    std::stable_sort(user_mounts.begin(), user_mounts.end(), [](const auto& a, const auto& b) {
        auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
        return depth(a.second.destination) < depth(b.second.destination);
    });
    for (size_t i = 0; i < user_mounts.size(); ++i) {
        const auto& [flag, m] = user_mounts[i];
        for (size_t j = 0; j < i; ++j) {
            if (user_mounts[j].second.destination == m.destination) {
                return Error(EINVAL) << flag << ": duplicate mount point `" << m.destination << "`";
            }
        }
        // A user's mount replaces the default one at the same place (docker: --tmpfs /dev/shm).
        for (auto it = mounts.begin(); it != mounts.end();) {
            it = (*it)["destination"] == m.destination ? mounts.erase(it) : it + 1;
        }
        mounts.push_back(mount_json(m));
    }
    if (o.init) {
        std::string init = BERTH_TRY_CTX(find_helper("berth-init"), "--init");
        mounts.push_back({{"destination", kInitPath},
                          {"type", "bind"},
                          {"source", init},
                          {"options", {"rbind", "rprivate", "ro"}}});
    }
    // Resources, rlimits, sysctls, the /dev/shm size (engine/resources.cpp).
    bool own_netns = o.network != "host" && !o.network.starts_with("container:");
    BERTH_TRY(apply_resource_flags(o, own_netns, spec));

    if (!o.privileged && !sec.seccomp_unconfined) {
        if (!sec.seccomp_file.empty()) {
            std::string text = BERTH_TRY_CTX(read_file(sec.seccomp_file),
                                             "--security-opt seccomp=" + sec.seccomp_file);
            linux_obj["seccomp"] = BERTH_TRY(seccomp_from_profile(
                text, cap_names, "--security-opt seccomp=" + sec.seccomp_file));
        } else {
            linux_obj["seccomp"] = default_seccomp(cap_names);
        }
    }

    OJson annotations = OJson::object();
    for (const auto& [k, v] : o.labels) annotations[k] = v;
    annotations["io.berth.image"] = o.image;
    if (o.interactive) annotations[kStdinAnnotation] = "true";
    spec["annotations"] = annotations;
    return spec.dump(1, '\t') + "\n";
}

}  // namespace berth::engine
