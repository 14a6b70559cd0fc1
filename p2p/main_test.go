package p2p_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test of the package must leave no goroutine behind once its nodes
// are stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
