/* dirtier: guest-side memory dirtier + heartbeat for Ferry's migration lab.
 * usage: dirtier MEM_MIB RATE_MIB_PER_S [HEARTBEAT_MS]
 * Populates MEM_MIB of anonymous memory, then re-writes pages round-robin at RATE MiB/s
 * (one 8-byte store per 4 KiB page is enough to dirty it in QEMU's dirty bitmap).
 * Every page carries (index, generation) and a shadow array keeps the expected
 * generation; a second cursor verifies 256 pages per 5 ms tick, so corruption across
 * a (post-copy) migration is reported as "CORRUPT" and counted in errs=.
 * A heartbeat line is printed every HEARTBEAT_MS to stdout (the serial console); rate= is
 * the rate actually achieved (lower than requested when the vCPU is throttled/starved). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#define PAGE 4096UL
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    long mem_mib = argc > 1 ? atol(argv[1]) : 64;
    double rate = argc > 2 ? atof(argv[2]) : 16;
    long hb_ms = argc > 3 ? atol(argv[3]) : 200;
    if (mem_mib < 1) mem_mib = 1;
    if (hb_ms < 10) hb_ms = 10;
    size_t npages = (size_t)mem_mib * (1024 * 1024 / PAGE);
    uint8_t *buf = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t *gen = calloc(npages, sizeof *gen);
    if (buf == MAP_FAILED || !gen) { printf("lab: alloc failed\n"); return 1; }
    for (size_t i = 0; i < npages; i++) { uint32_t *p = (uint32_t *)(buf + i * PAGE); p[0] = (uint32_t)i; p[1] = 0; }
    printf("lab: dirtier start mem=%ldMiB pages=%zu rate=%.1fMiB/s hb=%ldms\n", mem_mib, npages, rate, hb_ms);
    fflush(stdout);
    const double tick = 0.005;
    double pages_per_s = rate * (1024 * 1024 / PAGE), credit = 0;
    size_t wcur = 0, vcur = 0;
    unsigned long long dirtied = 0, dirtied_at_hb = 0, verified = 0, errs = 0, hb = 0;
    double t0 = now(), last = t0, next_hb = t0 + hb_ms / 1000.0, hb_start = t0, maxgap = 0;
    struct timespec ts = {0, (long)(tick * 1e9)};
    for (;;) {
        nanosleep(&ts, NULL);
        double t = now(), dt = t - last;
        if (dt > maxgap) maxgap = dt;
        last = t;
        if (dt > 0.02) dt = 0.02;   /* no catch-up: a throttled or stalled vCPU dirties less,
                                       like a CPU-bound writer (lets auto-converge bite) */
        credit += pages_per_s * dt;
        while (credit >= 1.0) {
            uint32_t *p = (uint32_t *)(buf + wcur * PAGE);
            uint32_t g = ++gen[wcur];
            p[0] = (uint32_t)wcur; p[1] = g;
            if (++wcur == npages) wcur = 0;
            credit -= 1.0; dirtied++;
        }
        for (int k = 0; k < 256; k++) {
            uint32_t *p = (uint32_t *)(buf + vcur * PAGE);
            if (p[0] != (uint32_t)vcur || p[1] != gen[vcur]) {
                if (errs < 20) printf("lab: CORRUPT page=%zu have=(%u,%u) want=(%zu,%u)\n", vcur, p[0], p[1], vcur, gen[vcur]);
                errs++;
            }
            verified++;
            if (++vcur == npages) vcur = 0;
        }
        if (t >= next_hb) {
            double span = t - hb_start;
            printf("lab: hb=%llu up=%.3f rate=%.1fMiB/s maxgap_ms=%.0f dirtied_mib=%llu verified=%llu errs=%llu\n",
                   ++hb, t - t0, (dirtied - dirtied_at_hb) * PAGE / 1048576.0 / span, maxgap * 1000,
                   dirtied * PAGE / 1048576, verified, errs);
            fflush(stdout);
            dirtied_at_hb = dirtied; hb_start = t; maxgap = 0;
            next_hb = t + hb_ms / 1000.0;
        }
    }
}
