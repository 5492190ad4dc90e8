// Command fixedproxy is bench.FixedPostProxy as a process of its own, so `make bench` can
// measure the cheapest Go hop's CPU per request the way it measures the gateway's: in front of
// the same upstream, under the same load, its CPU read from /proc.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/ucm-gateway/ucm-gateway/internal/bench"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on (loopback)")
	upstream := flag.String("upstream", "", "the upstream's https URL")
	ca := flag.String("ca", "", "PEM file of the upstream's certificate")
	flag.Parse()
	pem, err := os.ReadFile(*ca)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixedproxy:", err)
		os.Exit(2)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "fixedproxy: no certificate in", *ca)
		os.Exit(2)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 64}
	srv := &http.Server{Addr: *listen, Handler: bench.FixedPostProxy(*upstream, tr), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "fixedproxy:", err)
		os.Exit(1)
	}
}
