#include "facts.h"

#include "clock.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

/* "model name : Intel(R) ..." from /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];

    snprintf(buf, cap, "unknown");
    if (f == NULL) return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || colon == NULL) continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(buf, cap, "%s", colon);
        break;
    }
    fclose(f);
}

void facts_collect(proto_welcome_t *w)
{
    struct utsname un;
    int major, minor, patch;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    memset(w, 0, sizeof *w);
    if (gethostname(w->host, sizeof w->host - 1) != 0) snprintf(w->host, sizeof w->host, "?");
    cpu_model(w->cpu_model, sizeof w->cpu_model);
    snprintf(w->kernel, sizeof w->kernel, "%s", uname(&un) == 0 ? un.release : "unknown");
    snprintf(w->libcurl, sizeof w->libcurl, "%s", curl_version_info(CURLVERSION_NOW)->version);
    snprintf(w->libuv, sizeof w->libuv, "%s", uv_version_string());
    zmq_version(&major, &minor, &patch);
    snprintf(w->libzmq, sizeof w->libzmq, "%d.%d.%d", major, minor, patch);
    snprintf(w->version, sizeof w->version, "%s", FB_VERSION);
    clock_boot_id(w->boot_id, sizeof w->boot_id);
    w->cores = cores > 0 ? (uint32_t)cores : 1;
}
