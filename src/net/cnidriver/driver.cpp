#include "net/cnidriver/driver.h"

#include <algorithm>
#include <optional>

#include "net/cni/invoke.h"

namespace berth::net::cnidriver {

namespace {

using cni::CniError;
using cni::Outcome;

// `type="bridge" name="net"`, as libcni names a plugin in its errors.
std::string describe(const NetworkConfigList& list, size_t index) {
    std::string type = list.plugins[index].value("type", "");
    return "plugin type=\"" + type + "\" name=\"" + list.name + "\"";
}

Outcome prefixed(Outcome o, const std::string& context) {
    if (o.error) o.error->msg = context + ": " + o.error->msg;
    return o;
}

// Parameters the cache file name and every plugin rely on.
std::optional<CniError> check_runtime(const NetworkConfigList& list, const RuntimeConf& rt) {
    if (!valid_container_id(rt.container_id))
        return CniError{cni::kInvalidEnvironment, "invalid container id", rt.container_id};
    if (!valid_ifname(rt.ifname))
        return CniError{cni::kInvalidEnvironment, "invalid interface name", rt.ifname};
    if (!valid_network_name(list.name))
        return CniError{cni::kInvalidNetworkConfig, "invalid network name", list.name};
    if (list.plugins.empty())
        return CniError{cni::kInvalidNetworkConfig, "network has no plugins", list.name};
    return std::nullopt;
}

// A result in the list's version (libcni's GetAsVersion), for a cached result that may be of
// another version than the list now says; unchanged when it does not parse.
Json as_version(const Json& result, const std::string& version) {
    if (result.is_null() || result.value("cniVersion", "") == version) return result;
    auto r = cni::parse_result(result);
    return r ? cni::result_to_json(*r, version) : result;
}

}  // namespace

std::string join_cni_args(const CniArgs& args) {
    std::string out;
    for (const auto& [k, v] : args) out += (out.empty() ? "" : ";") + k + "=" + v;
    return out;
}

Json plugin_config(const NetworkConfigList& list, size_t index, const Json& prev_result,
                   const RuntimeConf& rt) {
    Json conf = list.plugins.at(index);
    conf["name"] = list.name;
    conf["cniVersion"] = list.cni_version;
    if (!prev_result.is_null()) conf["prevResult"] = prev_result;
    Json runtime = Json::object();
    auto caps = conf.find("capabilities");
    if (caps != conf.end() && caps->is_object() && rt.capability_args.is_object()) {
        for (const auto& [cap, enabled] : caps->items()) {
            if (!enabled.is_boolean() || !enabled.get<bool>()) continue;
            auto arg = rt.capability_args.find(cap);
            if (arg != rt.capability_args.end() && !arg->is_null()) runtime[cap] = *arg;
        }
    }
    if (!runtime.empty()) conf["runtimeConfig"] = std::move(runtime);
    return conf;
}

Error outcome_error(const CniError& e) {
    Error err(EIO);
    err << e.msg;
    if (!e.details.empty()) err << ": " << e.details;
    return std::move(err) << " (CNI error code " << e.code << ")";
}

CniDriver::CniDriver(DriverOptions options) : options_(std::move(options)) {
    for (const std::string& d : options_.plugin_dirs)
        search_path_ += (search_path_.empty() ? "" : ":") + d;
}

Outcome CniDriver::run(const NetworkConfigList& list, size_t index, const std::string& command,
                       const Json& config, const RuntimeConf& rt) const {
    cni::PluginEnv env;
    env.command = command;
    env.path = search_path_;
    if (command == "ADD" || command == "DEL" || command == "CHECK") {
        env.container_id = rt.container_id;
        env.netns = rt.netns;
        env.ifname = rt.ifname;
        env.args = join_cni_args(rt.args);
    }
    const std::string type = list.plugins[index].value("type", "");
    auto path = cni::find_plugin(type, search_path_);
    if (!path) return Outcome::fail(cni::kPluginNotAvailable, path.error());
    return cni::exec_plugin(*path, env, config.dump());
}

Outcome CniDriver::del_chain(const NetworkConfigList& list, size_t last, const Json& prev_result,
                             const RuntimeConf& rt) const {
    Outcome first = Outcome::ok();
    for (size_t i = last + 1; i-- > 0;) {
        Outcome o = run(list, i, "DEL", plugin_config(list, i, prev_result, rt), rt);
        if (o.error && !first.error)
            first = prefixed(std::move(o), describe(list, i) + " failed (delete)");
    }
    return first;
}

Outcome CniDriver::add(const NetworkConfigList& list, const RuntimeConf& rt) {
    if (auto e = check_runtime(list, rt)) return Outcome::fail(*e);
    Json result;  // null until the first plugin answers
    for (size_t i = 0; i < list.plugins.size(); i++) {
        Outcome o = run(list, i, "ADD", plugin_config(list, i, result, rt), rt);
        if (o.error) {
            // Undo what the chain did so far, the failed plugin included: it may have done half.
            (void)del_chain(list, i, result, rt);
            return prefixed(std::move(o), describe(list, i) + " failed (add)");
        }
        // The plugin's own JSON goes on (fields we do not model survive), once it reads as a
        // result of some version.
        Json r = Json::parse(o.output, nullptr, /*allow_exceptions=*/false);
        auto parsed = r.is_discarded() ? Result<cni::CniResult>(Error(EINVAL) << "not JSON")
                                       : cni::parse_result(r);
        if (!parsed) {
            (void)del_chain(list, i, result, rt);
            return Outcome::fail(
                {cni::kDecodeFailure,
                 describe(list, i) + " failed (add): invalid result: " + parsed.error().what(),
                 o.output});
        }
        result = std::move(r);
    }
    CachedAttachment entry{rt.container_id, rt.ifname, list.name,          rt.netns,
                           list.bytes,      rt.args,   rt.capability_args, result};
    if (auto w = write_cached(options_.cache_dir, entry); !w) {
        (void)del_chain(list, list.plugins.size() - 1, result, rt);
        return Outcome::fail(
            cni::kIoFailure,
            Error(w.error()).wrap("cache the result of network \"" + list.name + "\""));
    }
    return Outcome::ok(result.dump());
}

Outcome CniDriver::del(const NetworkConfigList& list, const RuntimeConf& rt_in) {
    if (auto e = check_runtime(list, rt_in)) return Outcome::fail(*e);
    RuntimeConf rt = rt_in;
    Json prev;
    auto cached = read_cached(options_.cache_dir, list.name, rt.container_id, rt.ifname);
    if (!cached) {
        // Unreadable: DEL goes on without it (libcni drops such an entry).
        (void)remove_cached(options_.cache_dir, list.name, rt.container_id, rt.ifname);
    } else if (*cached) {
        const CachedAttachment& c = **cached;
        if (cni::compare_versions(list.cni_version, "0.4.0") >= 0)
            prev = as_version(c.result, list.cni_version);
        if (rt.args.empty()) rt.args = c.cni_args;
        if (rt.capability_args.empty()) rt.capability_args = c.capability_args;
    }
    Outcome o = del_chain(list, list.plugins.size() - 1, prev, rt);
    if (o.error) return o;
    if (auto r = remove_cached(options_.cache_dir, list.name, rt.container_id, rt.ifname); !r)
        return Outcome::fail(cni::kIoFailure, r.error());
    return Outcome::ok();
}

Outcome CniDriver::check(const NetworkConfigList& list, const RuntimeConf& rt) {
    if (auto e = check_runtime(list, rt)) return Outcome::fail(*e);
    if (cni::compare_versions(list.cni_version, "0.4.0") < 0)
        return Outcome::fail({cni::kIncompatibleVersion,
                              "configuration version \"" + list.cni_version +
                                  "\" does not support the CHECK command",
                              ""});
    if (list.disable_check) return Outcome::ok();
    auto cached = read_cached(options_.cache_dir, list.name, rt.container_id, rt.ifname);
    if (!cached) return Outcome::fail(cni::kIoFailure, cached.error());
    if (!*cached || (*cached)->result.is_null())
        return Outcome::fail({cni::kUnknownContainer,
                              "no cached result for network \"" + list.name + "\"",
                              rt.container_id + "/" + rt.ifname});
    Json prev = as_version((*cached)->result, list.cni_version);
    for (size_t i = 0; i < list.plugins.size(); i++) {
        Outcome o = run(list, i, "CHECK", plugin_config(list, i, prev, rt), rt);
        if (o.error) return prefixed(std::move(o), describe(list, i) + " failed (check)");
    }
    return Outcome::ok();
}

Outcome CniDriver::gc(const NetworkConfigList& list, const std::vector<Attachment>& valid) {
    if (list.disable_gc) return Outcome::ok();
    Outcome first = Outcome::ok();
    auto keep = [&](Outcome o) {
        if (o.error && !first.error) first = std::move(o);
    };

    auto cached = list_cached(options_.cache_dir);
    if (!cached) keep(Outcome::fail(cni::kIoFailure, cached.error()));
    for (const CachedAttachment& a : cached ? *cached : std::vector<CachedAttachment>{}) {
        if (a.network_name != list.name) continue;
        if (std::find(valid.begin(), valid.end(), Attachment{a.container_id, a.ifname}) !=
            valid.end())
            continue;
        RuntimeConf rt{a.container_id, a.netns, a.ifname, a.cni_args, a.capability_args};
        Outcome o = del(list, rt);
        keep(prefixed(std::move(o), "delete stale attachment " + a.container_id + "/" + a.ifname));
    }

    if (cni::compare_versions(list.cni_version, "1.1.0") >= 0) {
        Json attachments = Json::array();
        for (const Attachment& a : valid)
            attachments.push_back({{"containerID", a.container_id}, {"ifname", a.ifname}});
        for (size_t i = 0; i < list.plugins.size(); i++) {
            Json conf = plugin_config(list, i, Json(), RuntimeConf{});
            conf["cni.dev/valid-attachments"] = attachments;
            keep(prefixed(run(list, i, "GC", conf, RuntimeConf{}),
                          describe(list, i) + " failed (gc)"));
        }
    }
    return first;
}

Outcome CniDriver::status(const NetworkConfigList& list) {
    if (cni::compare_versions(list.cni_version, "1.1.0") < 0) return Outcome::ok();
    for (size_t i = 0; i < list.plugins.size(); i++) {
        Outcome o =
            run(list, i, "STATUS", plugin_config(list, i, Json(), RuntimeConf{}), RuntimeConf{});
        if (o.error) return prefixed(std::move(o), describe(list, i) + " failed (status)");
    }
    return Outcome::ok();
}

Result<Json> CniDriver::cached_result(const NetworkConfigList& list, const RuntimeConf& rt) const {
    if (!valid_container_id(rt.container_id) || !valid_ifname(rt.ifname) ||
        !valid_network_name(list.name))
        return Error(EINVAL) << "invalid container id, interface or network name";
    auto cached = BERTH_TRY(read_cached(options_.cache_dir, list.name, rt.container_id, rt.ifname));
    return cached ? cached->result : Json();
}

Result<std::vector<CachedAttachment>> CniDriver::cached_attachments(
    std::string_view container_id) const {
    return list_cached(options_.cache_dir, container_id);
}

}  // namespace berth::net::cnidriver
