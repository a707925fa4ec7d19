#include "run.h"

const int run_steps[] = { 1, 2 };

int machine_persist(void) {
        return util_twice(run_steps[0]);
}

int run_helper(int x) {
        return x;
}
