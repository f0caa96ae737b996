#include "init/main.h"

int main(int argc, char** argv) {
    return berth::init::init_main(argc, argv);
}
