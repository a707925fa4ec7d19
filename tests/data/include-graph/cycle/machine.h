/* A driver header that also declares what the phases define: the phases include it for
 * machine_persist(), the driver for phase_select(). */
#pragma once
int machine_persist(void);
int phase_select(void);
