#pragma once

namespace berth::cli {
// berth-runtime's entry: global flags, then one verb from the table.
int runtime_main(int argc, char** argv);
}  // namespace berth::cli
