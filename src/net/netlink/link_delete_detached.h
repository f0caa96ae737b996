// Deleting a link without keeping the caller waiting for the kernel's cleanup. RTM_DELLINK
// unlists the device (and, for a veth, its peer) at once: within a millisecond or two no lookup
// by name or index and no dump shows it, and no new link can take its name before the kernel is
// done with it (that needs the RTNL lock the deletion holds). But the request returns only after
// several RCU grace periods (the bridge port's rx handler, the device's own unregistration) and
// netdev_run_todo()'s rcu_barrier(): 15-30 ms here per veth. The request is sent from a
// detached holder (base/detached_holder.h) and this returns as soon as the link is unlisted.
#pragma once

#include <string_view>

#include "base/result.h"

namespace berth::net::netlink {

// Deletes link `index` in the calling thread's network namespace. ENODEV when it does not exist;
// the kernel's error when the deletion is refused.
Result<void> delete_link_detached(int index);

// The index of link `name` in the calling thread's namespace, looked up under RCU (SIOCGIFINDEX)
// rather than the RTNL lock, so another link's deletion in progress does not hold it up. ENODEV
// when there is none.
Result<int> link_index_unlocked(std::string_view name);

}  // namespace berth::net::netlink
