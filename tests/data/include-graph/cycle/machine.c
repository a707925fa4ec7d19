#include "machine.h"

int machine_persist(void) {
        return phase_select() > 0 ? 0 : 1;
}
