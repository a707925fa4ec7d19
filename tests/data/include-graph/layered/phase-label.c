#include "phase.h"

int phase_label(void) {
        return run_helper(1);
}
