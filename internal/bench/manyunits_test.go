package bench

import (
	"os"
	"testing"
)

func TestManyUnitsQuick(t *testing.T) {
	if os.Getenv("UCM_BENCH_MANY") == "" {
		t.Skip("set UCM_BENCH_MANY=1")
	}
	bin, err := BuildGateway(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{10, 10000} {
		r, err := ManyUnits(bin, n, min(n, 1000), os.Getenv("PERUNIT") != "", false)
		t.Logf("%+v %v", r, err)
	}
}
