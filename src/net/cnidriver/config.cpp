#include "net/cnidriver/config.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "base/file.h"

namespace berth::net::cnidriver {

namespace {

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

bool valid_name(std::string_view s) {
    if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), name_char);
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "<source>: " in front of a message when there is a source.
Error config_error(std::string_view source, int err = EINVAL) {
    Error e(err);
    if (!source.empty()) e << source << ": ";
    return e;
}

Result<std::string> required_string(const Json& obj, const char* field, std::string_view source,
                                    std::string_view where = {}) {
    auto it = obj.find(field);
    if (it == obj.end()) return config_error(source) << where << field << ": missing";
    if (!it->is_string()) return config_error(source) << where << field << ": not a string";
    return it->get<std::string>();
}

// libcni accepts true/false and the strings "true"/"false" for its boolean list keys.
Result<bool> optional_bool(const Json& obj, const char* field, std::string_view source) {
    auto it = obj.find(field);
    if (it == obj.end()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string()) {
        std::string s = it->get<std::string>();
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (s == "true") return true;
        if (s == "false") return false;
    }
    return config_error(source) << field << ": not a boolean";
}

// The version the plugins get: cniVersion, or with cniVersions (spec 1.1) the newest of both
// that we speak.
Result<std::string> pick_version(const Json& j, std::string_view source) {
    std::string version;
    auto v = j.find("cniVersion");
    if (v != j.end()) {
        if (!v->is_string()) return config_error(source) << "cniVersion: not a string";
        version = v->get<std::string>();
    }
    auto vs = j.find("cniVersions");
    if (vs != j.end()) {
        if (!vs->is_array()) return config_error(source) << "cniVersions: not an array";
        std::string best = cni::version_supported(version) ? version : "";
        for (size_t i = 0; i < vs->size(); i++) {
            const Json& e = (*vs)[i];
            if (!e.is_string())
                return config_error(source) << "cniVersions[" << i << "]: not a string";
            std::string s = e.get<std::string>();
            if (cni::version_supported(s) && (best.empty() || cni::compare_versions(s, best) > 0))
                best = s;
        }
        if (!best.empty()) version = best;
    }
    if (version.empty()) return config_error(source) << "cniVersion: missing";
    if (!cni::version_supported(version)) {
        Error e = config_error(source)
                  << "cniVersion: \"" << version << "\" is not supported (supported:";
        for (const auto& s : cni::supported_versions()) e << ' ' << s;
        return std::move(e) << ")";
    }
    return version;
}

Result<void> check_plugin(const Json& plugin, std::string_view source, std::string_view where) {
    // `where` is "plugins[i]" in a list, empty for a single configuration.
    const std::string prefix = where.empty() ? "" : std::string(where) + ".";
    if (!plugin.is_object()) return config_error(source) << where << ": not an object";
    std::string type = BERTH_TRY(required_string(plugin, "type", source, prefix));
    if (type.empty()) return config_error(source) << prefix << "type: empty";
    if (type.find('/') != std::string::npos || type == "." || type == "..")
        return config_error(source) << prefix << "type: \"" << type << "\" is not a plain name";
    auto caps = plugin.find("capabilities");
    if (caps != plugin.end() && !caps->is_object())
        return config_error(source) << prefix << "capabilities: not an object";
    return {};
}

Result<Json> parse_object(std::string_view bytes, std::string_view source) {
    Json j = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return config_error(source) << "not valid JSON";
    if (!j.is_object()) return config_error(source) << "not a JSON object";
    return j;
}

Result<NetworkConfigList> list_header(const Json& j, std::string_view source) {
    NetworkConfigList list;
    list.source = std::string(source);
    list.name = BERTH_TRY(required_string(j, "name", source));
    if (!valid_network_name(list.name))
        return config_error(source) << "name: \"" << list.name
                                    << "\" must be letters, digits, '_', '.', '-' "
                                       "starting with a letter or digit";
    list.cni_version = BERTH_TRY(pick_version(j, source));
    return list;
}

}  // namespace

bool valid_network_name(std::string_view name) {
    return valid_name(name);
}
bool valid_container_id(std::string_view id) {
    return valid_name(id);
}

bool valid_ifname(std::string_view n) {
    if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
    return std::none_of(n.begin(), n.end(), [](char c) {
        return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
    });
}

Result<NetworkConfigList> parse_conflist(std::string_view bytes, std::string_view source) {
    Json j = BERTH_TRY(parse_object(bytes, source));
    NetworkConfigList list = BERTH_TRY(list_header(j, source));
    list.disable_check = BERTH_TRY(optional_bool(j, "disableCheck", source));
    list.disable_gc = BERTH_TRY(optional_bool(j, "disableGC", source));
    auto plugins = j.find("plugins");
    if (plugins == j.end()) return config_error(source) << "plugins: missing";
    if (!plugins->is_array()) return config_error(source) << "plugins: not an array";
    if (plugins->empty()) return config_error(source) << "plugins: empty";
    for (size_t i = 0; i < plugins->size(); i++) {
        BERTH_TRY(check_plugin((*plugins)[i], source, "plugins[" + std::to_string(i) + "]"));
        list.plugins.push_back((*plugins)[i]);
    }
    list.bytes = std::string(bytes);
    return list;
}

Result<NetworkConfigList> parse_conf(std::string_view bytes, std::string_view source) {
    Json j = BERTH_TRY(parse_object(bytes, source));
    NetworkConfigList list = BERTH_TRY(list_header(j, source));
    if (j.contains("plugins"))
        return config_error(source) << "plugins: a single configuration has none (name the file "
                                       "*.conflist for a list)";
    BERTH_TRY(check_plugin(j, source, ""));
    list.plugins.push_back(j);
    // What libcni caches for a converted .conf: a list holding the one plugin.
    Json as_list = {{"name", list.name}, {"cniVersion", list.cni_version}, {"plugins", {j}}};
    list.bytes = as_list.dump();
    return list;
}

Result<NetworkConfigList> load_config_file(const std::string& path) {
    std::string bytes = BERTH_TRY(read_file(path));
    if (ends_with(path, ".conflist")) return parse_conflist(bytes, path);
    if (ends_with(path, ".conf") || ends_with(path, ".json")) return parse_conf(bytes, path);
    return Error(EINVAL) << path << ": not a .conflist, .conf or .json file";
}

Result<std::vector<std::string>> config_files(const std::string& dir) {
    std::vector<std::string> files;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return files;
        return ErrnoError() << "opendir `" << dir << "`";
    }
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (!ends_with(name, ".conflist") && !ends_with(name, ".conf") && !ends_with(name, ".json"))
            continue;
        std::string path = path_join(dir, name);
        struct stat st;
        if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back(path);
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
    return files;
}

Result<std::vector<NetworkConfigList>> load_config_dir(const std::string& dir) {
    std::vector<NetworkConfigList> lists;
    for (const std::string& f : BERTH_TRY(config_files(dir)))
        lists.push_back(BERTH_TRY(load_config_file(f)));
    return lists;
}

Result<NetworkConfigList> load_network(const std::string& dir, std::string_view name) {
    auto files = BERTH_TRY(config_files(dir));
    // Lists first, then single configurations, each in name order.
    for (bool lists : {true, false}) {
        for (const std::string& f : files) {
            if (ends_with(f, ".conflist") != lists) continue;
            auto conf = BERTH_TRY(load_config_file(f));
            if (conf.name == name) return conf;
        }
    }
    return Error(ENOENT) << "no network configuration named \"" << name << "\" in `" << dir << "`";
}

}  // namespace berth::net::cnidriver
