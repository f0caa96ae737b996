// berth-loopback: CNI loopback plugin (see src/net/cni/loopback.h).
#include "net/cni/loopback.h"

int main() {
    using namespace berth::net::cni;
    return plugin_main(loopback_funcs(), "berth-loopback");
}
