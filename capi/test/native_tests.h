/* native_tests.h - the tests of the 0.4 functions: the native protocol
 * (test_native.c) and the network layer (test_gossip.c), listed for the table of test_capi.c: X(name, subset). */
#ifndef P2P_NATIVE_TESTS_H
#define P2P_NATIVE_TESTS_H

#define NATIVE_TESTS(X)               \
    X(native_encrypted_link, 1)       \
    X(native_mode_off_plaintext, 1)   \
    X(native_required_vs_off, 1)      \
    X(native_pin_wrong_key, 1)        \
    X(native_allow_list, 0)           \
    X(native_identity_files, 1)       \
    X(native_limits, 1)               \
    X(native_misuse, 1)               \
    X(gossip_network, 1)              \
    X(gossip_poll_v02_skips, 1)       \
    X(gossip_misuse, 1)

#define NATIVE_DECLARE_(name, subset) void test_##name(void);
NATIVE_TESTS(NATIVE_DECLARE_)
#undef NATIVE_DECLARE_

#endif
