#include "engine/monitor/monitor.h"

int main(int argc, char** argv) {
    return berth::monitor::monitor_main(argc, argv);
}
