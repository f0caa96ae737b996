#include "cli/runtime/main.h"

int main(int argc, char** argv) {
    return berth::cli::runtime_main(argc, argv);
}
