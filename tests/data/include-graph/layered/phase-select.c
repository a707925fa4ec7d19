#include "phase.h"

int phase_select(void) {
        return machine_persist();
}
