#pragma once
int machine_run(void);
