// berth-host-local: CNI host-local IPAM plugin (see src/net/cni/host_local.h).
#include "net/cni/host_local.h"
#include "net/cni/skel.h"

int main() {
    using namespace berth::net::cni;
    return plugin_main({.add = host_local_add,
                        .del = host_local_del,
                        .check = host_local_check,
                        .status = host_local_status,
                        .gc = host_local_gc},
                       "berth-host-local");
}
