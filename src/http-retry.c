/* SPDX-License-Identifier: MIT */
/* The HTTP client's pure arithmetic: token bucket, back-off, Retry-After. No clock and no
 * randomness of its own, so the tests can pin every value. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "macro.h"

/* ---- pure arithmetic: no clock, no randomness of its own ---- */

void token_bucket_init(struct token_bucket *b, double qps, double burst, int64_t now_us) {
        b->qps = qps;
        b->burst = burst < 1 ? 1 : burst;
        b->tokens = b->burst;
        b->last_us = now_us;
}

int64_t token_bucket_take(struct token_bucket *b, int64_t now_us) {
        if (b->qps <= 0)
                return 0;

        /* Refill for the time since the last call; a clock that went backwards adds nothing. */
        if (now_us > b->last_us) {
                b->tokens += (double) (now_us - b->last_us) * b->qps / 1e6;
                if (b->tokens > b->burst)
                        b->tokens = b->burst;
                b->last_us = now_us;
        }

        b->tokens -= 1;
        if (b->tokens >= 0)
                return 0;
        /* In debt: the caller waits until the refill has paid this token back. */
        return (int64_t) ((-b->tokens) * 1e6 / b->qps + 0.5);
}

long http_backoff_ms(unsigned attempt, long base_ms, long max_ms, uint32_t rnd) {
        long d = base_ms > 0 ? base_ms : 1;

        if (max_ms < d)
                max_ms = d;
        for (unsigned i = 1; i < attempt && d < max_ms; i++)
                d = d > max_ms / 2 ? max_ms : d * 2;
        if (d > max_ms)
                d = max_ms;

        /* Equal jitter: half fixed, half random, so retries of many clients spread out but
         * never collapse to zero. */
        return d - d / 2 + (long) (rnd % (uint32_t) (d / 2 + 1));
}

long http_retry_delay_ms(long retry_after_s, long cap_ms, unsigned attempt, long base_ms,
                         long max_ms, uint32_t rnd) {
        if (retry_after_s >= 0) {
                if (retry_after_s > cap_ms / 1000)
                        return cap_ms;
                return retry_after_s * 1000 < cap_ms ? retry_after_s * 1000 : cap_ms;
        }
        return http_backoff_ms(attempt, base_ms, max_ms, rnd);
}

int http_parse_retry_after(const char *value, long *ret_seconds) {
        long v = 0;
        const char *p = value;

        if (!p)
                return -EINVAL;
        while (*p == ' ' || *p == '\t')
                p++;
        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (v > (LONG_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (*p - '0');
        }
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
        if (*p)
                return -EINVAL;
        *ret_seconds = v;
        return 0;
}

bool http_status_retryable(long status, long retry_after_s, enum http_retry_policy p) {
        if (p == HTTP_RETRY_NEVER)
                return false;
        if (status == 429)
                return true;
        /* 501 Not Implemented and 505 will not get better by asking again. */
        if (status < 500 || status > 599 || status == 501 || status == 505)
                return false;
        /* A 5xx to a create may mean it happened: only the server's explicit invitation
         * makes a blind retry safe. */
        return p == HTTP_RETRY_IDEMPOTENT || retry_after_s >= 0;
}
