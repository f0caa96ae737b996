// berth-bridge: the reference bridge plugin's behaviour (CNI spec 0.3.0-1.1.0). ADD connects the
// container to a Linux bridge with a veth whose container end is created directly in the
// container's namespace and whose host end is enslaved in the same request; addresses come from
// the IPAM plugin. Namespace work runs on threads of its own (net::in_netns).
//
// IPAM: an `ipam.type` of "berth-host-local" runs in this process (cni::host_local_add/del/
// check/gc/status: the same dataDir, files and locks as the berth-host-local executable), which
// saves a fork+exec per verb; any other type is exec'd from CNI_PATH (cni::delegate) while the
// veth is being built. ipMasq and macspoofchk are nftables set elements (nft/masquerade.h,
// nft/mac_spoof.h): one transaction per ADD or DEL, no listing.
#pragma once

#include "net/cni/skel.h"

namespace berth::net::bridge {

cni::Outcome bridge_add(const cni::CmdArgs& args);
// Idempotent; succeeds when the namespace is already gone.
cni::Outcome bridge_del(const cni::CmdArgs& args);
cni::Outcome bridge_check(const cni::CmdArgs& args);
// Deletes host veths on the bridge that belong to no valid attachment, then runs IPAM's GC and
// removes the nftables elements of invalid attachments.
cni::Outcome bridge_gc(const cni::CmdArgs& args);
cni::Outcome bridge_status(const cni::CmdArgs& args);

cni::PluginFuncs bridge_plugin();

}  // namespace berth::net::bridge
