#include "cli/berth/main.h"

int main(int argc, char** argv) {
    return berth::cli::berth_main(argc, argv);
}
