/*
 * layout_check.c - the layout of the structs the bindings marshal by hand
 * (C# [StructLayout(Sequential)], Python ctypes), checked against the figures
 * they are written for: 64-bit targets (x86-64 and arm64; LP64 and LLP64
 * give the same figures, all fields being fixed-width or pointers). On a
 * 32-bit target it prints the figures and checks only what does not depend
 * on the ABI's alignment of uint64_t.
 * Prints every figure, one result per check, and "N passed, N failed".
 */
#include <stddef.h>
#include <stdio.h>

#include "p2pnode.h"

static int passed, failed;

static void show(const char *what, size_t got) { printf("     %-34s %3zu\n", what, got); }

static void check(const char *what, size_t got, size_t want) {
    int ok = got == want;
    printf("%s %-34s %3zu (documented %zu)\n", ok ? "ok  " : "FAIL", what, got, want);
    if (ok) passed++;
    else failed++;
}

#define P64 (sizeof(void *) == 8)
#define F(type, field, off64)                                          \
    do {                                                               \
        if (P64) check("offsetof(" #type ", " #field ")", offsetof(type, field), off64); \
        else show("offsetof(" #type ", " #field ")", offsetof(type, field)); \
    } while (0)

int main(void) {
    if (P64) check("sizeof(p2p_event)", sizeof(p2p_event), 152);
    else show("sizeof(p2p_event)", sizeof(p2p_event));
    F(p2p_event, type, 0);
    F(p2p_event, kind, 4);
    F(p2p_event, node, 8);
    F(p2p_event, peer, 16);
    F(p2p_event, peer_id, 24);
    F(p2p_event, peer_host, 32);
    F(p2p_event, peer_port, 40);
    F(p2p_event, direction, 44);
    F(p2p_event, data, 48);
    F(p2p_event, data_len, 56);
    F(p2p_event, compression, 64);
    F(p2p_event, port, 68);
    F(p2p_event, host, 72);
    F(p2p_event, trials, 80);
    F(p2p_event, reserved, 84);
    F(p2p_event, sender_id, 88);
    F(p2p_event, msg_type, 96);
    F(p2p_event, reason, 104);
    F(p2p_event, reject, 112);
    F(p2p_event, reserved2, 116);
    F(p2p_event, nodes, 120);
    F(p2p_event, n_nodes, 128);
    F(p2p_event, dropped, 136);
    F(p2p_event, dropped_bytes, 144);
    if (P64) check("sizeof(p2p_discovered)", sizeof(p2p_discovered), 24);
    F(p2p_discovered, id, 0);
    F(p2p_discovered, host, 8);
    F(p2p_discovered, port, 16);
    F(p2p_discovered, direction, 20);
    check("sizeof(p2p_secure_config)", sizeof(p2p_secure_config), 32);
    check("offsetof(p2p_secure_config, key_policy)", offsetof(p2p_secure_config, key_policy), 0);
    check("offsetof(p2p_secure_config, min_key_bits)", offsetof(p2p_secure_config, min_key_bits), 4);
    check("offsetof(p2p_secure_config, replay_window_ms)", offsetof(p2p_secure_config, replay_window_ms), 8);
    check("offsetof(p2p_secure_config, max_clock_skew_ms)", offsetof(p2p_secure_config, max_clock_skew_ms), 16);
    check("offsetof(p2p_secure_config, max_pinned_keys)", offsetof(p2p_secure_config, max_pinned_keys), 24);
    check("offsetof(p2p_secure_config, reserved)", offsetof(p2p_secure_config, reserved), 28);
    check("sizeof(p2p_counters)", sizeof(p2p_counters), 160);
    check("offsetof(p2p_counters, sent)", offsetof(p2p_counters, sent), 0);
    check("offsetof(p2p_counters, received)", offsetof(p2p_counters, received), 8);
    check("offsetof(p2p_counters, receive_errors)", offsetof(p2p_counters, receive_errors), 16);
    check("offsetof(p2p_counters, accepted)", offsetof(p2p_counters, accepted), 24);
    check("offsetof(p2p_counters, accepted_bytes)", offsetof(p2p_counters, accepted_bytes), 32);
    check("offsetof(p2p_counters, written)", offsetof(p2p_counters, written), 40);
    check("offsetof(p2p_counters, written_bytes)", offsetof(p2p_counters, written_bytes), 48);
    check("offsetof(p2p_counters, queued)", offsetof(p2p_counters, queued), 56);
    check("offsetof(p2p_counters, queued_bytes)", offsetof(p2p_counters, queued_bytes), 64);
    check("offsetof(p2p_counters, dropped_overflow)", offsetof(p2p_counters, dropped_overflow), 72);
    check("offsetof(p2p_counters, dropped_link_lost)", offsetof(p2p_counters, dropped_link_lost), 80);
    check("offsetof(p2p_counters, dropped_stop)", offsetof(p2p_counters, dropped_stop), 88);
    check("offsetof(p2p_counters, dropped_bytes)", offsetof(p2p_counters, dropped_bytes), 96);
    check("offsetof(p2p_counters, refused)", offsetof(p2p_counters, refused), 104);
    check("offsetof(p2p_counters, received_bytes)", offsetof(p2p_counters, received_bytes), 112);
    check("offsetof(p2p_counters, evicted)", offsetof(p2p_counters, evicted), 120);
    check("offsetof(p2p_counters, handshakes_evicted)", offsetof(p2p_counters, handshakes_evicted), 128);
    check("offsetof(p2p_counters, rejected)", offsetof(p2p_counters, rejected), 136);
    check("offsetof(p2p_counters, over_memory)", offsetof(p2p_counters, over_memory), 144);
    check("offsetof(p2p_counters, stalled)", offsetof(p2p_counters, stalled), 152);
    check("sizeof(p2p_node *)", sizeof(p2p_node *), sizeof(void *));
    check("sizeof(p2p_event_type) (enum as int32_t)", sizeof(p2p_event_type), 4);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
