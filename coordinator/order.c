#include "order.h"

#include <stdlib.h>
#include <string.h>

static const char *const k_names[] = {"interleave", "shuffle", "sequential"};

int order_parse(const char *s, order_kind_t *kind)
{
    for (size_t i = 0; i < sizeof k_names / sizeof *k_names; i++)
        if (strcmp(s, k_names[i]) == 0) {
            *kind = (order_kind_t)i;
            return 0;
        }
    return -1;
}

const char *order_name(order_kind_t kind)
{
    return (unsigned)kind < sizeof k_names / sizeof *k_names ? k_names[kind] : "?";
}

int order_init(order_t *o, size_t nbench, unsigned warmup, unsigned runs, order_kind_t kind,
               uint64_t seed)
{
    memset(o, 0, sizeof *o);
    if (nbench == 0) return -1;
    o->kind = kind;
    o->nbench = nbench;
    o->warmup = warmup;
    o->runs = runs;
    o->seed = seed;
    if (kind == ORDER_SHUFFLE && (o->perm = malloc(nbench * sizeof *o->perm)) == NULL) return -1;
    return 0;
}

void order_close(order_t *o)
{
    free(o->perm);
    o->perm = NULL;
}

size_t order_total(const order_t *o)
{
    return o->nbench * ((size_t)o->warmup + o->runs);
}

/* splitmix64: each round's order from (seed, round) alone */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void shuffle_round(order_t *o, size_t round)
{
    uint64_t x = o->seed ^ (0xd1b54a32d192ed03ull * (round + 1));

    for (size_t i = 0; i < o->nbench; i++)
        o->perm[i] = (uint32_t)i;
    for (size_t i = o->nbench - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = (size_t)(((unsigned __int128)splitmix(&x) * (i + 1)) >> 64);
        uint32_t t = o->perm[i];
        o->perm[i] = o->perm[j];
        o->perm[j] = t;
    }
}

static void sequential_step(const order_t *o, size_t i, order_step_t *s)
{
    size_t per = (size_t)o->warmup + o->runs, j = i % per;

    s->bench = (uint32_t)(i / per);
    s->warm = j < o->warmup;
    s->run = (uint32_t)(s->warm ? j : j - o->warmup);
    s->round_end = j == per - 1;
}

int order_next(order_t *o, order_step_t *s)
{
    size_t i = o->next, warm = o->nbench * o->warmup, t, round, pos;

    if (i >= order_total(o)) return 0;
    o->next++;
    memset(s, 0, sizeof *s);
    if (o->kind == ORDER_SEQUENTIAL) {
        sequential_step(o, i, s);
        return 1;
    }
    if (i < warm) { /* every benchmark's warmups, one benchmark after another */
        s->bench = (uint32_t)(i / o->warmup);
        s->run = (uint32_t)(i % o->warmup);
        s->warm = 1;
        return 1;
    }
    t = i - warm;
    round = t / o->nbench;
    pos = t % o->nbench;
    if (o->kind == ORDER_SHUFFLE) {
        if (pos == 0) shuffle_round(o, round);
        s->bench = o->perm[pos];
    } else {
        s->bench = (uint32_t)(round % 2 == 0 ? pos : o->nbench - 1 - pos);
    }
    s->run = (uint32_t)round;
    s->round_end = pos == o->nbench - 1;
    return 1;
}
