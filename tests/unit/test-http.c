/* SPDX-License-Identifier: MIT */
/* The HTTP client's arithmetic: token bucket, back-off with jitter, Retry-After, which
 * statuses are retried under which policy. */
#include <errno.h>
#include <stdlib.h>

#include "http.h"
#include "macro.h"
#include "tap.h"

static void test_bucket(void) {
        struct token_bucket b;
        int64_t t = 1000000, w;
        unsigned immediate = 0;

        token_bucket_init(&b, 5, 10, t);
        for (unsigned i = 0; i < 10; i++)
                immediate += token_bucket_take(&b, t) == 0;
        is_int(immediate, 10, "a full bucket lets a burst of 10 through at once");
        is_int(token_bucket_take(&b, t), 200000, "the 11th waits 1/qps = 200 ms");
        is_int(token_bucket_take(&b, t), 400000, "the 12th waits 400 ms (debt accumulates)");
        /* 400 ms later two tokens have been repaid: the next request waits 200 ms. */
        is_int(token_bucket_take(&b, t + 400000), 200000, "refill pays the debt back");
        /* A long idle period refills up to burst, not beyond. */
        t += 3600LL * 1000000;
        immediate = 0;
        for (unsigned i = 0; i < 20; i++)
                immediate += token_bucket_take(&b, t) == 0;
        is_int(immediate, 10, "refill is capped at burst");
        w = token_bucket_take(&b, t - 1000000);
        ok(w > 0, "a clock going backwards refills nothing");

        token_bucket_init(&b, 0, 0, t);
        for (unsigned i = 0; i < 1000; i++)
                if (token_bucket_take(&b, t) != 0)
                        break;
        is_int(token_bucket_take(&b, t), 0, "qps 0 means unlimited");

        token_bucket_init(&b, 2.5, 0, 0);
        is_int(token_bucket_take(&b, 0), 0, "burst below 1 still allows one request");
        is_int(token_bucket_take(&b, 0), 400000, "fractional qps: 1/2.5 s");
}

static void test_backoff(void) {
        static const struct { unsigned attempt; long base, max; uint32_t rnd; long want; } t[] = {
                { 1, 250, 8000, 0, 125 },          /* d=250: [125, 250] */
                { 1, 250, 8000, 125, 250 },
                { 1, 250, 8000, 126, 125 },        /* rnd wraps modulo 126 */
                { 2, 250, 8000, 0, 250 },          /* d=500 */
                { 3, 250, 8000, 500, 1000 },       /* d=1000: 500 + 500 */
                { 6, 250, 8000, 0, 4000 },         /* d=8000 */
                { 40, 250, 8000, 4000, 8000 },     /* capped, no overflow */
                { 1000, 1000, 30000, 0, 15000 },
                { 0, 250, 8000, 0, 125 },          /* attempt 0 acts as 1 */
                { 3, 0, 0, 0, 1 },                 /* degenerate settings stay positive */
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                is_int(http_backoff_ms(t[i].attempt, t[i].base, t[i].max, t[i].rnd), t[i].want,
                       "backoff attempt %u base %ld max %ld rnd %u", t[i].attempt, t[i].base,
                       t[i].max, t[i].rnd);
        for (uint32_t r = 0; r < 5000; r += 7) {
                long d = http_backoff_ms(4, 250, 8000, r * 2654435761u);

                if (d < 1000 || d > 2000) {
                        ok(false, "jitter out of [1000, 2000]: %ld", d);
                        return;
                }
        }
        ok(true, "jitter always within [d/2, d]");
}

static void test_retry_delay(void) {
        is_int(http_retry_delay_ms(1, 10000, 1, 250, 8000, 0), 1000, "Retry-After 1 -> 1 s");
        is_int(http_retry_delay_ms(0, 10000, 3, 250, 8000, 0), 0, "Retry-After 0 -> at once");
        is_int(http_retry_delay_ms(3600, 10000, 1, 250, 8000, 0), 10000, "Retry-After capped");
        is_int(http_retry_delay_ms(2147483647L, 10000, 1, 250, 8000, 0), 10000, "huge Retry-After capped");
        is_int(http_retry_delay_ms(-1, 10000, 2, 250, 8000, 0), 250, "no Retry-After: back-off");
}

static void test_parse_retry_after(void) {
        static const struct { const char *in; int r; long want; } t[] = {
                { "1", 0, 1 },       { " 120 ", 0, 120 }, { "0", 0, 0 }, { "7\r\n", 0, 7 },
                { "", -EINVAL, 0 },  { "-1", -EINVAL, 0 }, { "1.5", -EINVAL, 0 },
                { "Wed, 21 Oct 2015 07:28:00 GMT", -EINVAL, 0 },
                { "99999999999999999999999", -EINVAL, 0 }, { "5s", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                long v = -42;

                is_int(http_parse_retry_after(t[i].in, &v), t[i].r, "Retry-After '%s'", t[i].in);
                is_int(v, t[i].r == 0 ? t[i].want : -42, "value of '%s' (untouched on error)", t[i].in);
        }
        is_int(http_parse_retry_after(NULL, NULL), -EINVAL, "NULL");
}

static void test_retryable(void) {
        static const struct { long status, ra; enum http_retry_policy p; bool want; } t[] = {
                { 429, -1, HTTP_RETRY_IDEMPOTENT, true }, { 429, -1, HTTP_RETRY_UNSAFE, true },
                { 500, -1, HTTP_RETRY_IDEMPOTENT, true }, { 500, -1, HTTP_RETRY_UNSAFE, false },
                { 503, 1, HTTP_RETRY_UNSAFE, true },      { 504, -1, HTTP_RETRY_IDEMPOTENT, true },
                { 501, -1, HTTP_RETRY_IDEMPOTENT, false }, { 404, -1, HTTP_RETRY_IDEMPOTENT, false },
                { 409, 1, HTTP_RETRY_IDEMPOTENT, false }, { 200, -1, HTTP_RETRY_IDEMPOTENT, false },
                { 429, 1, HTTP_RETRY_NEVER, false },      { 503, 1, HTTP_RETRY_NEVER, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                is_int(http_status_retryable(t[i].status, t[i].ra, t[i].p), t[i].want,
                       "status %ld Retry-After %ld policy %d", t[i].status, t[i].ra, t[i].p);
}

static void test_client_new(void) {
        struct http_options o;
        struct http_client *c = NULL;
        char *cause = NULL;

        http_options_init(&o);
        ok(o.qps > 0 && o.burst >= o.qps && o.max_attempts > 1 && o.max_in_flight > 1, "sane defaults");
        o.base_url = "not a url at all";
        is_int(http_client_new(&o, &c, &cause), -EINVAL, "bad server URL refused");
        ok(cause && strstr(cause, "not a url at all"), "cause names the URL: %s", strempty(cause));
        free(cause);
        o.base_url = "https://127.0.0.1:6443/";
        o.tls_server_name = "kubernetes.default.svc";
        is_int(http_client_new(&o, &c, NULL), 0, "client with tls-server-name");
        c = http_client_free(c);
        ok(!c, "free returns NULL");
}

int main(void) {
        test_bucket();
        test_backoff();
        test_retry_delay();
        test_parse_retry_after();
        test_retryable();
        test_client_new();
        return tap_done();
}
