#include "machine.h"
#include "phase.h"

int machine_run(void) {
        return phase_select() + phase_label();
}
