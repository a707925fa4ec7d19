/* SPDX-License-Identifier: MIT */
/* An HTTP client over libcurl that knows nothing of Kubernetes: one client object keeps a
 * curl multi handle (and with it the connection cache: keep-alive, HTTP/2 multiplexing
 * over ALPN), a client-side token bucket applied to every request, retries with
 * Retry-After or exponential back-off with jitter, and counters by verb and status.
 * Only this module sees CURLcode. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Optional logging hook; priority is a syslog LOG_* value. Never receives secrets. */
typedef void (*http_log_fn)(void *userdata, int priority, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

struct http_options {
        const char *base_url;  /* "https://host:port", prefixed to request paths */
        const char *ca_pem;    /* CA bundle in memory; NULL = system trust store */
        size_t ca_len;
        bool insecure;         /* skip verification: only when the configuration says so */
        const char *tls_server_name; /* SNI and name to verify instead of the URL host */
        const char *proxy;     /* proxy URL; NULL = libcurl's environment handling */
        bool disable_compression;
        bool disable_http2;    /* HTTP/1.1 only; default: HTTP/2 when TLS ALPN offers it */
        const char *user_agent; /* NULL = "clyde-seed/<version>" */

        long connect_timeout_ms; /* default 10000 */
        long request_timeout_ms; /* one attempt; default 60000; requests may override */
        unsigned max_attempts;   /* per request, default 5 */
        long deadline_ms;        /* all attempts of one request, default 120000 */
        long retry_after_max_ms; /* cap on a server's Retry-After, default 10000 */
        long backoff_base_ms;    /* default 250 */
        long backoff_max_ms;     /* default 8000 */
        double qps;              /* token bucket rate; <= 0 = unlimited. default 20 */
        double burst;            /* bucket size, default 40 */
        unsigned max_in_flight;  /* concurrent requests in http_request_many(), default 8 */

        http_log_fn log;
        void *log_userdata;
};

/* Fills in the defaults above; base_url and TLS settings are left NULL. */
void http_options_init(struct http_options *o);

enum http_retry_policy {
        /* GET, DELETE, idempotent PATCH: retried after transport errors, 429 and 5xx. */
        HTTP_RETRY_IDEMPOTENT,
        /* POST: retried only when nothing can have reached the server (connect failed),
         * on 429, and on 5xx that carry Retry-After. Otherwise resp->maybe_sent tells the
         * caller to find out itself whether the request took effect. */
        HTTP_RETRY_UNSAFE,
        HTTP_RETRY_NEVER,
};

/* Called with each piece of a 2xx response body as it arrives. Return < 0 to abort the
 * request with that error. Non-2xx bodies are buffered (capped) into the response. */
typedef int (*http_data_fn)(const char *data, size_t len, void *userdata);

struct http_request {
        const char *method; /* "GET", "HEAD", "POST", "PATCH", "DELETE", "PUT" */
        const char *path;   /* appended to base_url; may carry a query string */
        const char *content_type;
        const char *body; /* may be NULL */
        size_t body_len;
        const char *accept; /* NULL = application/json */

        /* Credentials, borrowed. Never logged. */
        const char *bearer_token;
        const char *username;
        const char *password;
        const char *cert_pem;
        size_t cert_len;
        const char *key_pem;
        size_t key_len;

        /* Response headers to keep (names, case-insensitive; NULL-terminated, at most
         * HTTP_WANT_HEADERS_MAX): the first value of each lands in resp->headers[i]. */
        const char *const *want_headers;
        bool follow_redirects; /* GET only; credentials are not sent to another host */

        enum http_retry_policy retry;
        long timeout_ms; /* 0 = the client's request timeout, < 0 = none (watch) */
        http_data_fn on_data; /* NULL = buffer the body into the response */
        void *userdata;
};

#define HTTP_WANT_HEADERS_MAX 4

struct http_response {
        long status;        /* 0 when no response was received */
        char *body;         /* NUL-terminated; buffered or error body; may be NULL */
        size_t body_len;
        char *content_type; /* NULL when absent */
        long retry_after_s; /* -1 when absent */
        unsigned attempts;
        bool maybe_sent;    /* failed after the request may have reached the server */
        bool streamed;      /* part of the body went to on_data */
        int error;          /* 0, or negative errno of the transport failure */
        char *error_text;   /* transport failure description, NULL when none */
        char *headers[HTTP_WANT_HEADERS_MAX]; /* values of req->want_headers, NULL absent */
};

/* Frees what the response points to and zeroes it. */
void http_response_done(struct http_response *r);

struct http_client;

/* Creates a client. Returns 0 and *ret, or -ENOMEM / -EINVAL (bad base URL) with *ret_cause. */
int http_client_new(const struct http_options *o, struct http_client **ret, char **ret_cause);

/* NULL is fine; returns NULL. */
struct http_client *http_client_free(struct http_client *c);

/* Performs one request with retries. Returns 0 when a response arrived (any status, in
 * resp->status), or a negative errno when none did after the retries: -ECONNREFUSED,
 * -EHOSTUNREACH (resolve/connect), -ETIMEDOUT, -ECONNRESET, -EPROTO (TLS/verification),
 * -ECANCELED (on_data aborted: resp->error has its value), -ENOMEM. resp is always
 * filled and must be released with http_response_done(). */
int http_request(struct http_client *c, const struct http_request *req,
                 struct http_response *resp);

/* Performs n requests concurrently (bounded by max_in_flight and the token bucket), each
 * with its own retries. resps[i] receives the outcome of reqs[i]; resps[i].error is the
 * negative errno that http_request() would have returned. Returns 0, or -ENOMEM. */
int http_request_many(struct http_client *c, const struct http_request *reqs,
                      struct http_response *resps, size_t n);

/* One counter: requests sent with a verb that ended with a status (0 = no response). */
struct http_counter {
        char verb[8];
        long status;
        uint64_t count;
};

/* Borrowed array valid until the next request. Returns the number of counters. */
size_t http_client_counters(const struct http_client *c, const struct http_counter **ret);

/* Number of retries performed so far (all requests). */
uint64_t http_client_retries(const struct http_client *c);

/* ---- pure helpers, exposed for tests ---- */

/* A token bucket: a request may go when a token is available; tokens refill at qps per
 * second up to burst. */
struct token_bucket {
        double qps;
        double burst;
        double tokens;
        int64_t last_us;
};

void token_bucket_init(struct token_bucket *b, double qps, double burst, int64_t now_us);

/* Takes a token (the bucket may go into debt) and returns how long the caller must wait
 * before sending, in microseconds: 0 = at once. qps <= 0 never waits. */
int64_t token_bucket_take(struct token_bucket *b, int64_t now_us);

/* Exponential back-off with jitter for retry number attempt (1 = first retry): the
 * exponential step d = min(max, base * 2^(attempt-1)), result in [d/2, d]. rnd is a
 * random value supplied by the caller. */
long http_backoff_ms(unsigned attempt, long base_ms, long max_ms, uint32_t rnd);

/* The delay before the next attempt: Retry-After (seconds, >= 0) capped at cap_ms when the
 * server gave one, else http_backoff_ms(). */
long http_retry_delay_ms(long retry_after_s, long cap_ms, unsigned attempt, long base_ms,
                         long max_ms, uint32_t rnd);

/* Parses an integer Retry-After header value (delta-seconds). Returns 0 and the value, or
 * -EINVAL (HTTP-date and garbage are not honoured). */
int http_parse_retry_after(const char *value, long *ret_seconds);

/* Whether a status is worth retrying for the policy (429, 5xx; 5xx needs Retry-After for
 * HTTP_RETRY_UNSAFE). */
bool http_status_retryable(long status, long retry_after_s, enum http_retry_policy p);

static inline void http_client_freep(struct http_client **c) {
        http_client_free(*c);
}
