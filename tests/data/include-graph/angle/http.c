#include <config.h> /* meant autoconf's; finds config.h of this folder */

int http_x(void);
int http_x(void) {
        return 0;
}
