// berth-portmap's verbs: a chained plugin that publishes container ports on the node with
// nftables (rules.h), one transaction per ADD/DEL/GC, in the node's network namespace (where
// the plugin runs; it never enters the container's).
#pragma once

#include "net/cni/skel.h"

namespace berth::net::portmap {

cni::Outcome portmap_add(const cni::CmdArgs& args);
cni::Outcome portmap_del(const cni::CmdArgs& args);
cni::Outcome portmap_check(const cni::CmdArgs& args);
cni::Outcome portmap_gc(const cni::CmdArgs& args);
cni::Outcome portmap_status(const cni::CmdArgs& args);

cni::PluginFuncs portmap_funcs();

}  // namespace berth::net::portmap
