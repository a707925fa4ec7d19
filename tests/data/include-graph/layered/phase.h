#pragma once
#include "run.h"
int phase_select(void);
int phase_label(void);
