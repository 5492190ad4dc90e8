package bench

import (
	"testing"
	"time"
)

func TestUCMLoadQuick(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	m, err := Mixed(2000, 16)
	t.Logf("mixed %+v %v", m, err)
	c, err := ColdStart(1000)
	t.Logf("cold %+v %v", c, err)
	co, err := Coalescing(1000)
	t.Logf("coalescing %+v %v", co, err)
	f, err := FanOut(200, 200, 3*time.Second)
	t.Logf("fanout %+v %v", f, err)
}
