// Network configurations as the CNI spec defines them (SPEC.md "Network configuration lists")
// and as libcni loads them: a directory of *.conflist, *.conf and *.json files read in name
// order; a single-plugin .conf/.json becomes a list of one. Every error names the file and the
// field.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/cni/types.h"

namespace berth::net::cnidriver {

using cni::Json;

struct NetworkConfigList {
    std::string name;
    std::string cni_version;     // the one the plugins get: cniVersion, or the newest of
                                 // cniVersions we speak
    bool disable_check = false;  // "disableCheck": CHECK succeeds without running plugins
    bool disable_gc = false;     // "disableGC": GC does nothing
    std::vector<Json> plugins;   // each plugin's configuration object, in chain order
    std::string bytes;           // the list as JSON: what the result cache stores
    std::string source;          // the file it came from, for messages; may be empty
};

// A .conflist's bytes. `source` only labels errors ("<source>: plugins[1].type: missing").
Result<NetworkConfigList> parse_conflist(std::string_view bytes, std::string_view source = {});
// A single plugin's configuration (.conf/.json) turned into a list of one.
Result<NetworkConfigList> parse_conf(std::string_view bytes, std::string_view source = {});
// One file, by extension: .conflist is a list, .conf and .json a single configuration.
Result<NetworkConfigList> load_config_file(const std::string& path);

// The *.conflist, *.conf and *.json regular files directly in `dir`, sorted by name. A missing
// directory has none.
Result<std::vector<std::string>> config_files(const std::string& dir);
// Every configuration in `dir`, in file name order; the first invalid file is the error.
Result<std::vector<NetworkConfigList>> load_config_dir(const std::string& dir);
// The network called `name` in `dir`: the first .conflist of that name in file name order, else
// the first .conf/.json (libcni's LoadConfList). ENOENT when there is none.
Result<NetworkConfigList> load_network(const std::string& dir, std::string_view name);

// libcni's rules, which also keep the cache file name (<network>-<container>-<ifname>) a
// single path component.
bool valid_network_name(std::string_view name);  // [A-Za-z0-9][A-Za-z0-9_.-]*
bool valid_container_id(std::string_view id);    // the same alphabet
bool valid_ifname(std::string_view name);        // 1-15 bytes, not . or .., no '/', ':' or spaces

}  // namespace berth::net::cnidriver
