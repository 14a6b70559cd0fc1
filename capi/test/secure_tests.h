/* secure_tests.h - the secure node's tests (test_secure.c), listed for the
 * table of test_capi.c: X(name, subset) for each, subset marking those that
 * run under valgrind too (not secure_keys: its 600,000-round key
 * derivations, Go code only, take minutes there). */
#ifndef P2P_SECURE_TESTS_H
#define P2P_SECURE_TESTS_H

#define SECURE_TESTS(X)                   \
    X(secure_new_and_config, 1)           \
    X(secure_keys, 0) /* key derivation: minutes under valgrind */ \
    X(secure_on_plain_node, 1)            \
    X(secure_messages_callback, 1)        \
    X(secure_messages_poll, 1)            \
    X(secure_rejections_callback, 1)      \
    X(secure_rejections_poll, 1)          \
    X(secure_ping_discovery_callback, 1)  \
    X(secure_ping_discovery_poll, 1)      \
    X(secure_pinning, 1)                  \
    X(secure_trusted_keys_only, 1)        \
    X(secure_create_and_check, 1)         \
    X(secure_broadcast_exclude, 1)        \
    X(secure_nested_events, 1)            \
    X(secure_helpers, 1)                  \
    X(secure_delegate, 1)

#define SECURE_DECLARE_(name, subset) void test_##name(void);
SECURE_TESTS(SECURE_DECLARE_)
#undef SECURE_DECLARE_

#endif
