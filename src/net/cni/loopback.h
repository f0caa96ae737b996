// berth-loopback: brings the loopback interface of the container's network namespace up on ADD
// and down on DEL, like the reference plugin. Works for every spec version skel.h speaks; all
// netlink work goes through a socket opened inside the namespace (no setns on our thread).
#pragma once

#include "net/cni/skel.h"

namespace berth::net::cni {

// ADD: lo up in CNI_NETNS. Alone it reports lo (127.0.0.1/8, ::1/128); chained after another
// plugin it passes prevResult on unchanged (but for cniVersion).
Outcome loopback_add(const CmdArgs& args);
// DEL: lo down. A namespace that is gone (or CNI_NETNS empty) is success: nothing to undo.
Outcome loopback_del(const CmdArgs& args);
// CHECK: lo exists in CNI_NETNS and is up.
Outcome loopback_check(const CmdArgs& args);
// STATUS and GC: loopback holds no state outside the namespace; always ready, nothing to free.
Outcome loopback_status(const CmdArgs& args);
Outcome loopback_gc(const CmdArgs& args);

PluginFuncs loopback_funcs();

}  // namespace berth::net::cni
