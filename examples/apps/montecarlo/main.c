/* montecarlo - estimates pi by drawing points in the unit square: the share of them inside the
 * quarter circle is about pi/4.
 *
 * Deterministic for a given seed on any machine: the generator is xoshiro256** (its four
 * words of state are the first four outputs of splitmix64 started at the seed), each point is
 * two 32-bit whole numbers x, y (the high halves of two outputs), and a point is inside when
 * x*x + y*y < 2^64, computed exactly in 64-bit whole numbers; no floating point decides
 * anything.
 *
 * Params: {"seed": 0..2^53-1 (default 1), "samples": 1..10^9 (default 1000000)}.
 * Result: {"samples": N, "inside": K, "pi": 4K/N}.
 */
#include "deskgrid_app.h"

#define MAX_SEED 9007199254740991ULL /* 2^53 - 1: every JSON reader keeps it exact */
#define MAX_SAMPLES 1000000000ULL
#define DEFAULT_SEED 1ULL
#define DEFAULT_SAMPLES 1000000ULL

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro256starstar(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

int main(void) {
    static const char *const known[] = {"seed", "samples", NULL};
    static dg_parser parser; /* static: it is large */
    dg_json *params = dg_params_load(&parser);
    dg_params_allow(params, known);
    uint64_t seed = dg_param_uint(params, "seed", 0, MAX_SEED, DEFAULT_SEED);
    uint64_t samples = dg_param_uint(params, "samples", 1, MAX_SAMPLES, DEFAULT_SAMPLES);
    dg_json_free(&parser);

    uint64_t mix = seed, state[4];
    for (int i = 0; i < 4; i++) state[i] = splitmix64(&mix);

    uint64_t step = samples / 100 ? samples / 100 : 1, done = 0, inside = 0;
    dg_progress(0.0, "samples_done", 0);
    while (done < samples) {
        uint64_t end = samples - done < step ? samples : done + step;
        for (; done < end; done++) {
            uint64_t x = xoshiro256starstar(state) >> 32;
            uint64_t y = xoshiro256starstar(state) >> 32;
            inside += x * x <= UINT64_MAX - y * y; /* x*x + y*y < 2^64, without overflow */
        }
        dg_progress((double)done / (double)samples, "samples_done", done);
    }

    dg_buffer result = {0};
    dg_buffer_printf(&result, "{\"samples\": %llu, \"inside\": %llu, \"pi\": %.10f}\n",
                     (unsigned long long)samples, (unsigned long long)inside,
                     4.0 * (double)inside / (double)samples);
    dg_write_result(&result);
    free(result.data);
    return 0;
}
