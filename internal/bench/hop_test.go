package bench

import "testing"

func TestHopBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	gw, px, err := Hop(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gateway %s %s", gw, gw.MemString())
	t.Logf("proxy   %s %s", px, px.MemString())
}
