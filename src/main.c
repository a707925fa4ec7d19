/* SPDX-License-Identifier: MIT */
#include <stdio.h>

int main(int argc, char **argv) {
        (void) argc;
        (void) argv;
        printf("clyde-seed\n");
        return 0;
}
