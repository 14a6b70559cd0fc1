/* A program outside the tree, built against an installed p2pnode (CMake's
 * p2pnode::p2pnode or `pkg-config p2pnode`): two nodes on free loopback
 * ports, one message from the first to the second, polled with a deadline.
 * Exit status 0 when the message arrived intact. */
#include <p2pnode.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                                 \
    do {                                                                            \
        int rc_ = (call);                                                           \
        if (rc_ != P2P_OK) {                                                        \
            fprintf(stderr, "c consumer: %s: %s (%s)\n", #call, p2p_strerror(rc_), \
                    p2p_errmsg());                                                  \
            return 1;                                                               \
        }                                                                           \
    } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(p2p_node *a, p2p_node *b) {
    static const char msg[] = "hello from an installed C program";
    int port_b = 0;
    uint64_t peer = 0;
    CHECK(p2p_node_start(a));
    CHECK(p2p_node_start(b));
    CHECK(p2p_node_port(b, &port_b));
    CHECK(p2p_node_connect(a, "127.0.0.1", port_b, 0, &peer));
    CHECK(p2p_node_send(a, peer, msg, sizeof msg - 1, P2P_COMPRESSION_ZLIB));

    double deadline = now_s() + 10.0;
    while (now_s() < deadline) {
        p2p_event evs[16];
        size_t n = 0;
        CHECK(p2p_node_poll(b, evs, 16, 100, &n));
        for (size_t i = 0; i < n; i++) {
            if (evs[i].type != P2P_EVENT_MESSAGE) continue;
            if (evs[i].data_len == sizeof msg - 1 && memcmp(evs[i].data, msg, sizeof msg - 1) == 0) {
                printf("c consumer: got \"%s\" (zlib) from %.16s...\n", msg, evs[i].peer_id);
                return 0;
            }
            fprintf(stderr, "c consumer: unexpected message of %zu bytes\n", evs[i].data_len);
            return 1;
        }
    }
    fprintf(stderr, "c consumer: the message did not arrive within 10 s\n");
    return 1;
}

int main(void) {
    if (strcmp(p2p_version(), P2P_VERSION_STRING) != 0) {
        fprintf(stderr, "c consumer: library %s, header %s\n", p2p_version(), P2P_VERSION_STRING);
        return 1;
    }
    p2p_node *a = NULL, *b = NULL;
    CHECK(p2p_node_new("127.0.0.1", 0, NULL, 0, &a));
    if (p2p_node_new("127.0.0.1", 0, NULL, 0, &b) != P2P_OK) {
        fprintf(stderr, "c consumer: p2p_node_new: %s\n", p2p_errmsg());
        p2p_node_free(a);
        return 1;
    }
    int rc = run(a, b);
    p2p_node_free(a);
    p2p_node_free(b);
    return rc;
}
