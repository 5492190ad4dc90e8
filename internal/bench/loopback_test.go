package bench

import (
	"testing"
	"time"
)

func TestLoopbackQuick(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	r, err := Loopback(1000, 2*time.Second, 8, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
}
