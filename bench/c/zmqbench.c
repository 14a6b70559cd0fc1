/*
 * zmqbench.c - the libzmq baseline of cbench.c's single-send figure: a PUSH
 * socket and a PULL socket in one process over TCP loopback, one zmq_send
 * per 64-byte message, and a receiving thread doing one zmq_recv per
 * message. Messages per second from the first send to the last receipt.
 * Prints "name value unit" lines for bench/report.py; the receiver gives up
 * after a bounded time (ZMQ_RCVTIMEO) so a lost message cannot hang it.
 *
 *   zmqbench [MESSAGES]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    void *pull;
    long n, got;
    double last;
} recv_state;

static void *receiver(void *arg) {
    recv_state *s = arg;
    char buf[256];
    while (s->got < s->n) {
        int r = zmq_recv(s->pull, buf, sizeof buf, 0);
        if (r < 0) break; /* timeout or error: s->got tells */
        s->got++;
    }
    s->last = now();
    return NULL;
}

static void *must(void *p, const char *what) {
    if (!p) {
        fprintf(stderr, "zmqbench: %s: %s\n", what, zmq_strerror(zmq_errno()));
        exit(1);
    }
    return p;
}

static void ok(int rc, const char *what) {
    if (rc != 0) {
        fprintf(stderr, "zmqbench: %s: %s\n", what, zmq_strerror(zmq_errno()));
        exit(1);
    }
}

/* One run of n messages; returns messages per second, or -1 on loss. */
static double run(void *ctx, long n) {
    void *pull = must(zmq_socket(ctx, ZMQ_PULL), "socket");
    void *push = must(zmq_socket(ctx, ZMQ_PUSH), "socket");
    int timeout_ms = 30000, linger = 0;
    ok(zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms), "RCVTIMEO");
    ok(zmq_setsockopt(push, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms), "SNDTIMEO");
    ok(zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger), "LINGER");
    ok(zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof linger), "LINGER");
    ok(zmq_bind(pull, "tcp://127.0.0.1:*"), "bind");
    char ep[256];
    size_t eplen = sizeof ep;
    ok(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &eplen), "LAST_ENDPOINT");
    ok(zmq_connect(push, ep), "connect");
    /* Wait until the connection carries a message, as cbench waits for its peer. */
    char msg[64];
    memset(msg, 'm', sizeof msg);
    if (zmq_send(push, msg, sizeof msg, 0) != (int)sizeof msg) return -1;
    if (zmq_recv(pull, msg, sizeof msg, 0) < 0) return -1;

    recv_state s = {pull, n, 0, 0};
    pthread_t th;
    double t0 = now();
    if (pthread_create(&th, NULL, receiver, &s) != 0) return -1;
    for (long i = 0; i < n; i++) {
        if (zmq_send(push, msg, sizeof msg, 0) != (int)sizeof msg) {
            fprintf(stderr, "zmqbench: send: %s\n", zmq_strerror(zmq_errno()));
            break;
        }
    }
    pthread_join(th, NULL);
    zmq_close(push);
    zmq_close(pull);
    if (s.got < n) {
        fprintf(stderr, "zmqbench: only %ld of %ld messages arrived\n", s.got, n);
        return -1;
    }
    return n / (s.last - t0);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 500000;
    void *ctx = must(zmq_ctx_new(), "ctx");
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double v = run(ctx, n);
        if (v < 0) return 1;
        if (v > best) best = v;
    }
    zmq_ctx_term(ctx);
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("zmq_c_version %d%02d%02d version\n", major, minor, patch);
    printf("zmq_c_push_pull_single %.0f msg/s\n", best);
    return 0;
}
