// berth-bridge: CNI bridge plugin (see src/net/bridge/plugin.h).
#include "net/bridge/plugin.h"

int main() {
    return berth::net::cni::plugin_main(berth::net::bridge::bridge_plugin(), "berth-bridge");
}
