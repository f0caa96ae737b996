// Shared libraries opened on first use. Linking a library makes every start of a program load
// and relocate it and everything it needs, whether or not the command uses it; berth's commands
// mostly do not use libarchive or libcrypto. Stand-in definitions of the few functions berth
// calls (src/image/archive_library.cpp, crypto_library.cpp) resolve the real ones through this.
#pragma once

namespace berth {

// The function `name` of the library `soname` (dlopen'ed once, RTLD_LOCAL, kept open). When the
// library or the function is missing, the stand-ins cannot return an error their callers would
// understand: this prints what is missing and which Debian package has it, then aborts.
void* lazy_symbol(const char* soname, const char* package, const char* name);

}  // namespace berth

// The real `name` (a function declared by the library's header) from `soname`, resolved once.
#define BERTH_LAZY_FUNCTION(soname, package, name)                                             \
    ([] {                                                                                      \
        static const auto fn =                                                                 \
            reinterpret_cast<decltype(&::name)>(::berth::lazy_symbol(soname, package, #name)); \
        return fn;                                                                             \
    }())
