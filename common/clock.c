#include "clock.h"

#include <stdio.h>
#include <string.h>

void clock_boot_id(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

    buf[0] = '\0';
    if (f == NULL) return;
    if (fgets(buf, (int)cap, f) == NULL) buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}
