// berth-portmap: the CNI portmap plugin (portMappings capability) over nftables.
#include "net/portmap/plugin.h"

int main() {
    return berth::net::cni::plugin_main(berth::net::portmap::portmap_funcs(),
                                        "berth-portmap: port mappings with nftables");
}
