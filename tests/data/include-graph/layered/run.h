#pragma once
#include "util.h"
extern const int run_steps[];
int machine_persist(void);
int run_helper(int x) __attribute__((warn_unused_result));
