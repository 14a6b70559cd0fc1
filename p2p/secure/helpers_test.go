package secure

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// testKeys are 2048-bit keys made once for the whole test binary: RSA key
// generation is slow, and most tests do not care about the size.
var testKeys [4]*Key

func TestMain(m *testing.M) {
	var wg sync.WaitGroup
	errs := make([]error, len(testKeys))
	for i := range testKeys {
		wg.Go(func() { testKeys[i], errs[i] = GenerateKey(2048) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, "generate test keys:", err)
			os.Exit(1)
		}
	}
	goleak.VerifyTestMain(m)
}

// waitFor waits until cond holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
