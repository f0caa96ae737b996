#include "base/version.h"

namespace berth {
const char* version() {
    return BERTH_VERSION;
}
const char* commit() {
    return BERTH_COMMIT;
}
}  // namespace berth
