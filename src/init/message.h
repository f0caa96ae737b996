// berth-init's messages on stderr, tini-style: "[INFO  berth-init (1)] child 7 exited ...".
// printf-based on purpose: glibc's static printf is linked in anyway, iostream is not.
#pragma once

namespace berth::init {

// Messages above this level (see Verbosity in options.h) are dropped. Process-wide.
void set_verbosity(int level);
int verbosity();

void message(int level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace berth::init
