// libFuzzer target for a process object alone (`exec --process FILE`): any input gives a Process
// or an EINVAL error, and a Process survives a trip through to_json() unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oci/spec.h"

using berth::fuzz::expect;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto process = berth::oci::parse_process(text);
    berth::fuzz::expect_clean_error(process);
    if (!process.ok()) return 0;
    // What the reader promises the exec path.
    expect(!process->args.empty());
    expect(!process->cwd.empty() && process->cwd[0] == '/');
    expect(!process->user.umask || *process->user.umask <= 0777);
    for (const auto& e : process->env) expect(e.find('=') != std::string::npos && e[0] != '=');
    for (const auto& rl : process->rlimits) expect(rl.soft <= rl.hard);
    std::string json = berth::oci::to_json(*process);
    auto again = berth::oci::parse_process(json);
    expect(again.ok() && berth::oci::to_json(*again) == json);
    return 0;
}
