// berth-init's entry point; cmd/berth-init/main.cpp is nothing but a call to it.
#pragma once

namespace berth::init {
// Parses argv, runs the command (or pauses) as PID 1 and returns the exit code to use.
int init_main(int argc, char** argv);
}  // namespace berth::init
